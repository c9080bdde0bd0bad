//! Life cycles that follow the CCTP: UO0 → (UO1) → UO2.1 → UO2.2, entry at UO2.1 directly for
//! some, durations drawn per work unit, voluntary closures with deliverables, abandonments at
//! the deadlines, re-engagements at another operator, a few concurrent cases, status changes
//! in continuity, interactions, first-appointment requests, complaints, purchase orders.

use crate::SynthConfig;
use crate::identity::{Identity, as_recorded, random_identity};
use cep_domain::deadline::{add_months, deadline};
use cep_domain::{Lot, WorkUnit, YearMonth};
use chrono::{Datelike, Duration, NaiveDate};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// An anomaly injected on purpose (spec §7), recorded in `truth/anomalies.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Injection {
    // Properties of a whole dossier (non-blocking): its lines are accepted with a warning.
    Ineligible,
    BcUnknown,
    BcMismatch,
    BcDuplicate,
    LivrableMissing,
    Deadline,
    DossierMois,
    DecompteMissing,
    OptionalFieldFormat,
    OptionalRefCode,
    FicheStale,
    // A corrupted copy of one of its lines, right after it (blocking: quarantined).
    DossierFormat,
    RefCode,
    MissingValue,
    DateOrder,
    Uo22WithoutUo21,
    FieldFormat,
    FieldTooLong,
    Horodatage,
    FicheConflict,
    FicheImmuable,
    DossierOperator,
    RegionLot,
    FutureDate,
}

impl Injection {
    pub const ALL: [Injection; 24] = [
        Injection::Ineligible,
        Injection::BcUnknown,
        Injection::BcMismatch,
        Injection::BcDuplicate,
        Injection::LivrableMissing,
        Injection::Deadline,
        Injection::DossierMois,
        Injection::DecompteMissing,
        Injection::OptionalFieldFormat,
        Injection::OptionalRefCode,
        Injection::FicheStale,
        Injection::DossierFormat,
        Injection::RefCode,
        Injection::MissingValue,
        Injection::DateOrder,
        Injection::Uo22WithoutUo21,
        Injection::FieldFormat,
        Injection::FieldTooLong,
        Injection::Horodatage,
        Injection::FicheConflict,
        Injection::FicheImmuable,
        Injection::DossierOperator,
        Injection::RegionLot,
        Injection::FutureDate,
    ];

    /// The anomaly code the spec gives it.
    pub fn code(self) -> &'static str {
        use Injection::*;
        match self {
            Ineligible => "INELIGIBLE",
            BcUnknown => "BC_UNKNOWN",
            BcMismatch => "BC_MISMATCH",
            BcDuplicate => "BC_DUPLICATE",
            LivrableMissing => "LIVRABLE_MISSING",
            Deadline => "DEADLINE",
            DossierMois => "DOSSIER_MOIS",
            DecompteMissing => "DECOMPTE_MISSING",
            OptionalFieldFormat | FieldFormat => "FIELD_FORMAT",
            OptionalRefCode | RefCode => "REF_CODE",
            FicheStale => "FICHE_STALE",
            DossierFormat => "DOSSIER_FORMAT",
            MissingValue => "MISSING_VALUE",
            DateOrder => "DATE_ORDER",
            Uo22WithoutUo21 => "UO22_WITHOUT_UO21",
            FieldTooLong => "FIELD_TOO_LONG",
            Horodatage => "HORODATAGE",
            FicheConflict => "FICHE_CONFLICT",
            FicheImmuable => "FICHE_IMMUABLE",
            DossierOperator => "DOSSIER_OPERATOR",
            RegionLot => "REGION_LOT",
            FutureDate => "FUTURE_DATE",
        }
    }

    /// Injected as a corrupted extra line (blocking) rather than as a property of the dossier.
    pub fn is_extra_line(self) -> bool {
        self >= Injection::DossierFormat
    }

    fn suits(self, d: &Dossier) -> bool {
        use Injection::*;
        // Closed voluntarily on a day the period still shows (its closure fiche is sent).
        let closed_voluntarily = d
            .closure
            .is_some_and(|(c, m)| m != "ABANDON_DELAI" && d.fiche_days.contains(&c));
        match self {
            Ineligible => d.uo == WorkUnit::Uo1 && d.statut_change.is_none(),
            LivrableMissing => d.livrable.is_some() && closed_voluntarily,
            Deadline | DecompteMissing => closed_voluntarily && d.uo != WorkUnit::Uo0,
            OptionalFieldFormat => d.demande_rdv.is_some(),
            FicheStale => d.fiche_days.len() >= 3,
            Uo22WithoutUo21 => d.uo == WorkUnit::Uo22,
            FieldTooLong | FutureDate => {
                matches!(d.uo, WorkUnit::Uo1 | WorkUnit::Uo21)
                    && d.closure.is_none()
                    && d.fiche_days.len() >= 2
            }
            RegionLot => d.lot.is_regional(),
            _ => true,
        }
    }
}

/// Descriptive attributes of a dossier (activity data).
#[derive(Debug, Clone)]
pub struct Attrs {
    pub structure: String,
    pub handicap: &'static str,
    pub niveau_formation: &'static str,
    pub secteur: (&'static str, &'static str),
    pub taille: &'static str,
    pub categorie: &'static str,
    pub profession: &'static str,
    pub entree_entreprise: String,
    pub entreprise_departement: String,
    pub origine: &'static str,
    pub motif: &'static str,
    pub motif_detaille: &'static str,
    pub aiguillage: &'static str,
    pub types_service: Vec<&'static str>,
    pub prestations: Vec<&'static str>,
    pub auto_prescription: bool,
    pub financement: Vec<&'static str>,
    pub decouvertes: Vec<&'static str>,
    pub cpir: bool,
    pub etat_projet: &'static str,
}

/// One work-unit dossier and everything needed to write each of its fiches.
#[derive(Debug, Clone)]
pub struct Dossier {
    pub numero: String,
    pub lot: Lot,
    pub region: Lot,
    pub uo: WorkUnit,
    pub op_person: u32,
    pub engagement: NaiveDate,
    /// Declared closure: date and motif.
    pub closure: Option<(NaiveDate, &'static str)>,
    pub interactions: Vec<(NaiveDate, &'static str)>,
    pub demande_rdv: Option<NaiveDate>,
    pub statut: &'static str,
    pub statut_change: Option<(NaiveDate, &'static str)>,
    pub reference_bc: String,
    pub decompte: Option<String>,
    pub uo21: Option<String>,
    pub uo21_engagement: Option<NaiveDate>,
    pub livrable: Option<String>,
    pub attrs: Attrs,
    /// Days on which the operator sends a fiche (it changed), in order, within the period.
    pub fiche_days: Vec<NaiveDate>,
    pub injection: Option<Injection>,
    /// Natural facts for the truth (e.g. `CONCURRENT_CEP`, `INELIGIBLE_UO0`).
    pub facts: Vec<&'static str>,
}

impl Dossier {
    pub fn deadline(&self) -> Option<NaiveDate> {
        deadline(self.uo, self.engagement, self.uo21_engagement)
    }
}

/// An operator's person id and what that operator recorded of the person.
#[derive(Debug, Clone)]
pub struct OperatorPerson {
    pub lot: Lot,
    pub ident: String,
    pub person: u32,
    pub(crate) identity: Identity,
    pub corruptions: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub reference: String,
    pub lot: Lot,
    pub uo: WorkUnit,
    pub year: i32,
    pub quantity: u32,
    pub price_cents: i64,
    pub used: u32,
}

#[derive(Debug, Clone)]
pub struct Complaint {
    pub lot: Lot,
    pub id: String,
    pub dossier: u32,
    pub reception: NaiveDate,
    pub motif: &'static str,
    pub ack: Option<NaiveDate>,
    pub answer: Option<NaiveDate>,
    pub escalated: bool,
}

/// Everything generated, in memory.
#[derive(Debug)]
pub struct Dataset {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub(crate) persons: Vec<Identity>,
    pub operator_persons: Vec<OperatorPerson>,
    pub dossiers: Vec<Dossier>,
    pub orders: Vec<Order>,
    pub complaints: Vec<Complaint>,
    pub operator_codes: BTreeMap<Lot, String>,
    pub satisfaction: BTreeMap<Lot, f64>,
    /// (lot 19 serves this region, from, to)
    pub takeover: Option<(Lot, NaiveDate, NaiveDate)>,
}

/// Operator codes (`OO`): two characters per holder.
pub(crate) fn operator_code(lot: Lot) -> String {
    const CODES: [&str; 19] = [
        "IF", "AR", "HF", "NA", "GE", "OC", "PA", "PL", "NO", "BR", "BF", "CV", "RE", "GP", "MQ",
        "CO", "GY", "YT", "S9",
    ];
    CODES[usize::from(lot.number()) - 1].to_owned()
}

const EMPLOYMENT: &str = include_str!("../data/regional-employment.csv");

fn employment_weights() -> BTreeMap<Lot, f64> {
    let mut w = BTreeMap::new();
    for line in EMPLOYMENT.lines().skip(1) {
        let mut parts = line.split(',');
        let lot = Lot::parse(parts.next().unwrap_or("")).expect("lot column");
        let _region = parts.next();
        let _code = parts.next();
        let thousands: f64 = parts
            .next()
            .and_then(|v| v.parse().ok())
            .expect("employed_thousands column");
        w.insert(lot, thousands);
    }
    let total: f64 = w.values().sum();
    w.values_mut().for_each(|v| *v /= total);
    w
}

pub(crate) fn employment_thousands(lot: Lot) -> f64 {
    for line in EMPLOYMENT.lines().skip(1) {
        if line.starts_with(&format!("{lot},")) {
            return line
                .split(',')
                .nth(3)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
        }
    }
    0.0
}

const ELIGIBLE: [&str; 8] = cep_domain::reference::ELIGIBLE_STATUSES;
const ELIGIBLE_WEIGHTS: [f64; 8] = [0.62, 0.14, 0.06, 0.03, 0.07, 0.04, 0.02, 0.02];
const MODES: [&str; 7] = [
    "PRESENTIEL",
    "TELEPHONE",
    "EMAIL",
    "VISIO",
    "CHAT",
    "ATELIER_COLLECTIF",
    "COURRIER",
];

fn weighted<T: Copy>(items: &[T], weights: &[f64], rng: &mut impl Rng) -> T {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (item, w) in items.iter().zip(weights) {
        if u < *w {
            return *item;
        }
        u -= w;
    }
    *items.last().expect("non-empty")
}

fn eligible_status(rng: &mut impl Rng) -> &'static str {
    weighted(&ELIGIBLE, &ELIGIBLE_WEIGHTS, rng)
}

fn pick<T: Copy>(items: &[T], rng: &mut impl Rng) -> T {
    *items.choose(rng).expect("non-empty")
}

fn some_of(
    items: &[&'static str],
    none: &'static str,
    p_none: f64,
    rng: &mut impl Rng,
) -> Vec<&'static str> {
    if rng.random_bool(p_none) {
        return vec![none];
    }
    let n = rng.random_range(1..=2.min(items.len()));
    let mut v: Vec<&'static str> = items.choose_multiple(rng, n).copied().collect();
    v.sort_unstable();
    v
}

fn attrs(lot: Lot, uo: WorkUnit, engagement: NaiveDate, rng: &mut impl Rng) -> Attrs {
    let sectors = [
        ("C", "Industrie manufacturière"),
        ("G", "Commerce"),
        ("Q", "Santé humaine et action sociale"),
        ("N", "Services administratifs et de soutien"),
        ("F", "Construction"),
        ("H", "Transports et entreposage"),
        ("I", "Hébergement et restauration"),
        ("M", "Activités spécialisées, scientifiques et techniques"),
        ("J", "Information et communication"),
        ("K", "Activités financières et d'assurance"),
    ];
    let professions = [
        "Aide-soignante",
        "Comptable",
        "Vendeur",
        "Technicien de maintenance",
        "Assistante de direction",
        "Chauffeur-livreur",
        "Cuisinier",
        "Développeur informatique",
        "Agent d'entretien",
        "Infirmier",
    ];
    let second = uo.is_second_level();
    Attrs {
        structure: format!("SITE-{:02}", rng.random_range(1..=8)),
        handicap: weighted(
            &["NON", "OUI", "NE_SOUHAITE_PAS_REPONDRE"],
            &[0.9, 0.05, 0.05],
            rng,
        ),
        niveau_formation: pick(&["INFRA_3", "3", "4", "5", "6", "7", "8"], rng),
        secteur: pick(&sectors, rng),
        taille: pick(
            &["0", "1_9", "10_49", "50_249", "250_4999", "5000_PLUS"],
            rng,
        ),
        categorie: weighted(
            &["1", "2", "3", "4", "5", "6"],
            &[0.01, 0.04, 0.17, 0.26, 0.36, 0.16],
            rng,
        ),
        profession: pick(&professions, rng),
        entree_entreprise: {
            let back = rng.random_range(3..240);
            YearMonth::of(engagement).plus(-back).to_string()
        },
        entreprise_departement: match lot.number() {
            13 => "974".into(),
            14 => "971".into(),
            15 => "972".into(),
            16 => "2A".into(),
            17 => "973".into(),
            18 => "976".into(),
            _ => format!("{:02}", rng.random_range(1..=19)),
        },
        origine: weighted(
            &[
                "INDIVIDUELLE",
                "ENTREPRISE",
                "AUTRE_OPERATEUR_CEP",
                "SPRO",
                "IRP_SYNDICAT",
                "CPIR",
                "FRANCE_TRAVAIL",
                "COMMUNICATION",
                "AUTRE",
            ],
            &[0.45, 0.08, 0.03, 0.1, 0.03, 0.06, 0.1, 0.1, 0.05],
            rng,
        ),
        motif: pick(
            &[
                "FAIRE_LE_POINT",
                "COMPETENCES",
                "PROJET_PROFESSIONNEL",
                "AUTRE",
            ],
            rng,
        ),
        motif_detaille: pick(
            &[
                "POSTE_RESPONSABILITE",
                "CHANGER_METIER_SECTEUR",
                "CREER_REPRENDRE_ENTREPRISE",
                "SE_FORMER",
                "FAIRE_RECONNAITRE_COMPETENCES",
                "VAE",
                "MOBILITE_GEOGRAPHIQUE",
                "RECONVERSION_DEMISSION",
                "DIFFICULTES_EMPLOI",
                "AUTRE",
            ],
            rng,
        ),
        aiguillage: weighted(
            &[
                "RDV_CEP_INTERNE",
                "APEC",
                "FRANCE_TRAVAIL",
                "MISSION_LOCALE",
                "CAP_EMPLOI",
                "AUTRE_OPERATEUR_REGIONAL",
                "AUTRES_SERVICES",
            ],
            &[0.55, 0.1, 0.12, 0.05, 0.03, 0.05, 0.1],
            rng,
        ),
        types_service: if second {
            some_of(
                &[
                    "IDENTIFICATION_COMPETENCES",
                    "PARCOURS_FORMATION",
                    "INVESTIGATION_METIERS",
                    "PMSMP",
                    "INGENIERIE_FINANCIERE",
                    "ABONDEMENT_CPF",
                    "INFORMATION_VAE",
                    "PROJET_TRANSITION_PRO",
                    "CREATION_ENTREPRISE",
                ],
                "IDENTIFICATION_COMPETENCES",
                0.2,
                rng,
            )
        } else {
            vec![]
        },
        prestations: if second {
            some_of(
                &[
                    "FORMATION",
                    "FORMATION_QUALIFIANTE",
                    "BILAN_COMPETENCES",
                    "VAE",
                    "CREATION_ENTREPRISE",
                    "MOBILITE",
                ],
                "AUCUNE",
                0.45,
                rng,
            )
        } else {
            vec![]
        },
        auto_prescription: rng.random_bool(0.15),
        financement: if second {
            some_of(
                &[
                    "CPF",
                    "CPF_TRANSITION",
                    "PLAN_DEVELOPPEMENT_COMPETENCES",
                    "REGION",
                    "OPCO",
                    "PERSONNEL",
                ],
                "AUCUN",
                0.4,
                rng,
            )
        } else {
            vec![]
        },
        decouvertes: if second {
            some_of(
                &["PMSMP", "MISSION_COURTE", "AFEST", "IMMERSION_AUTRE"],
                "AUCUNE",
                0.7,
                rng,
            )
        } else {
            vec![]
        },
        cpir: rng.random_bool(0.05),
        etat_projet: pick(
            &[
                "RECONVERSION_PROJETEE",
                "RECONVERSION_REALISEE",
                "TRANSITION_PROJETEE",
                "CREATION_PROJETEE",
                "EVOLUTION_INTERNE",
                "FORMATION_EN_COURS",
                "PROJET_ABANDONNE",
            ],
            rng,
        ),
    }
}

struct Builder<'c> {
    config: &'c SynthConfig,
    rng: ChaCha8Rng,
    start: NaiveDate,
    end: NaiveDate,
    persons: Vec<Identity>,
    person_lots: Vec<Vec<(Lot, u32)>>,
    operator_persons: Vec<OperatorPerson>,
    dossiers: Vec<Dossier>,
    counters: BTreeMap<(Lot, YearMonth, WorkUnit), u32>,
    orders: BTreeMap<(Lot, WorkUnit, i32), Vec<Order>>,
    takeover: Option<(Lot, NaiveDate, NaiveDate)>,
}

/// Days from `from` to be added, log-normal-ish with the given median.
fn duration_days(median: f64, spread: f64, rng: &mut impl Rng) -> i64 {
    // Box-Muller normal, then exp.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (median * (spread * z).exp()).round().max(0.0) as i64
}

impl Builder<'_> {
    fn lot_serving(&self, region: Lot, day: NaiveDate) -> Lot {
        match self.takeover {
            Some((r, from, to)) if r == region && day >= from && day <= to => Lot::BACKUP,
            _ => region,
        }
    }

    fn operator_person(&mut self, person: u32, lot: Lot) -> u32 {
        if let Some((_, idx)) = self.person_lots[person as usize]
            .iter()
            .find(|(l, _)| *l == lot)
        {
            return *idx;
        }
        let first = self.person_lots[person as usize].is_empty();
        let (mut identity, mut corruptions) =
            as_recorded(&self.persons[person as usize], lot, first, &mut self.rng);
        // The feed requires an e-mail from UO1 on (spec 4.1): an operator that leaves it out
        // is the linker benchmark's case only; here its files would be refused.
        if identity.email.is_empty() {
            identity.email = self.persons[person as usize].email.clone();
            corruptions.retain(|c| *c != "email_missing");
        }
        let idx = self.operator_persons.len() as u32;
        let ident = match lot.number() % 3 {
            0 => format!("B{:07}", idx),
            1 => format!("{}-{:06}", operator_code(lot), idx),
            _ => format!("P{}", 100_000 + idx),
        };
        self.operator_persons.push(OperatorPerson {
            lot,
            ident,
            person,
            identity,
            corruptions,
        });
        self.person_lots[person as usize].push((lot, idx));
        idx
    }

    fn numero(&mut self, lot: Lot, uo: WorkUnit, engagement: NaiveDate) -> String {
        let month = YearMonth::of(engagement);
        let c = self.counters.entry((lot, month, uo)).or_insert(0);
        *c += 1;
        format!(
            "{}{:02}{:02}{}{:06}",
            operator_code(lot),
            engagement.year() % 100,
            engagement.month(),
            uo.dossier_code(),
            c
        )
    }

    fn reference(&mut self, lot: Lot, uo: WorkUnit, year: i32) -> String {
        let orders = self.orders.entry((lot, uo, year)).or_default();
        if orders.last().is_none_or(|o| o.used >= 99_999) {
            let n = orders.len() + 1;
            orders.push(Order {
                reference: format!("{year:04}-Lot{lot}-UO{}-{n:02}", uo.column_code()),
                lot,
                uo,
                year,
                quantity: 0,
                price_cents: match uo {
                    WorkUnit::Uo0 => 2_500,
                    WorkUnit::Uo1 => 18_000,
                    WorkUnit::Uo21 => 65_000,
                    WorkUnit::Uo22 => 45_000,
                },
                used: 0,
            });
        }
        let o = orders.last_mut().expect("just ensured");
        o.used += 1;
        format!("{}-{:05}", o.reference, o.used)
    }

    /// Interactions from engagement to `last`, the first on the engagement day.
    fn interactions(
        &mut self,
        engagement: NaiveDate,
        last: NaiveDate,
    ) -> Vec<(NaiveDate, &'static str)> {
        let span = (last - engagement).num_days().max(0);
        let n = if span == 0 {
            1
        } else {
            self.rng.random_range(2..=5)
        };
        let mut days = vec![engagement];
        for _ in 1..n {
            days.push(engagement + Duration::days(self.rng.random_range(1..=span)));
        }
        days.push(last);
        days.sort_unstable();
        days.dedup();
        days.into_iter()
            .map(|d| {
                (
                    d,
                    weighted(
                        &MODES,
                        &[0.45, 0.25, 0.08, 0.15, 0.02, 0.04, 0.01],
                        &mut self.rng,
                    ),
                )
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn dossier(
        &mut self,
        person: u32,
        region: Lot,
        uo: WorkUnit,
        engagement: NaiveDate,
        statut: &'static str,
        uo21: Option<(&str, NaiveDate)>,
    ) -> usize {
        let lot = self.lot_serving(region, engagement);
        let op_person = self.operator_person(person, lot);
        let dl =
            deadline(uo, engagement, uo21.map(|u| u.1)).expect("UO2.2 always built with its UO2.1");
        // Closure: voluntary within the deadline, or abandonment.
        let (closure, last_contact) = match uo {
            WorkUnit::Uo0 => (None, engagement),
            _ => {
                let (median, spread, p_abandon) = match uo {
                    WorkUnit::Uo1 => (24.0, 0.5, 0.08),
                    WorkUnit::Uo21 => (85.0, 0.45, 0.12),
                    _ => (200.0, 0.4, 0.15),
                };
                if self.rng.random_bool(p_abandon) {
                    let last = engagement
                        + Duration::days(duration_days(median / 2.0, 0.4, &mut self.rng));
                    let last = last.min(dl);
                    // Some operators declare the abandonment, dated on the deadline.
                    let declared = self.rng.random_bool(0.5).then_some((dl, "ABANDON_DELAI"));
                    (declared, last)
                } else {
                    let mut c = engagement
                        + Duration::days(duration_days(median, spread, &mut self.rng).max(1));
                    if c > dl {
                        c = dl - Duration::days(self.rng.random_range(0..10)).min(dl - engagement);
                    }
                    let motif = match uo {
                        WorkUnit::Uo22 => weighted(
                            &["SOUHAIT_CLORE", "REORIENTATION", "CHANGEMENT_OPERATEUR"],
                            &[0.9, 0.06, 0.04],
                            &mut self.rng,
                        ),
                        _ => weighted(
                            &["LIVRABLE_SIGNE", "SOUHAIT_CLORE", "REORIENTATION"],
                            &[0.85, 0.1, 0.05],
                            &mut self.rng,
                        ),
                    };
                    (Some((c, motif)), c)
                }
            }
        };
        let interactions = self.interactions(engagement, last_contact);
        let demande_rdv = (matches!(uo, WorkUnit::Uo1 | WorkUnit::Uo21)).then(|| {
            let late = self.rng.random_bool(0.1);
            let back = if late {
                self.rng.random_range(45..=75)
            } else {
                self.rng.random_range(2..=35)
            };
            engagement - Duration::days(back)
        });
        let numero = self.numero(lot, uo, engagement);
        let reference_bc = self.reference(lot, uo, engagement.year());
        let decompte = closure
            .filter(|(_, m)| *m != "ABANDON_DELAI")
            .map(|(d, _)| format!("{:04}-Lot{lot}-T{}-01", d.year(), (d.month() - 1) / 3 + 1));
        let livrable = closure
            // Every voluntary UO1/UO2.1 closure deposits its signed deliverable (spec point 22).
            .filter(|(_, m)| *m != "ABANDON_DELAI" && matches!(uo, WorkUnit::Uo1 | WorkUnit::Uo21))
            .map(|_| {
                let mut h = [0u8; 32];
                self.rng.fill(&mut h);
                h.iter().map(|b| format!("{b:02x}")).collect::<String>()
            });
        let statut_change =
            (uo == WorkUnit::Uo21 && closure.is_some() && self.rng.random_bool(0.03)).then(|| {
                let (c, _) = closure.expect("checked");
                let mid = engagement + (c - engagement) / 2;
                (
                    mid.max(engagement + Duration::days(1)).min(c),
                    "DEMISSIONNAIRE",
                )
            });
        let attrs = attrs(region, uo, engagement, &mut self.rng);
        let mut days: Vec<NaiveDate> = interactions.iter().map(|(d, _)| *d).collect();
        if let Some((c, _)) = closure {
            days.push(c);
        }
        if let Some((d, _)) = statut_change {
            days.push(d);
        }
        days.sort_unstable();
        days.dedup();
        days.retain(|d| *d <= self.end);
        self.dossiers.push(Dossier {
            numero,
            lot,
            region,
            uo,
            op_person,
            engagement,
            closure,
            interactions,
            demande_rdv,
            statut,
            statut_change,
            reference_bc,
            decompte,
            uo21: uo21.map(|u| u.0.to_owned()),
            uo21_engagement: uo21.map(|u| u.1),
            livrable,
            attrs,
            fiche_days: days,
            injection: None,
            facts: vec![],
        });
        self.dossiers.len() - 1
    }

    /// A new person of `region` first seen on a day of `month`; `None` when that day's dossiers
    /// would go to a lot that is not generated (an unselected region outside lot 19's takeover).
    fn new_person(
        &mut self,
        region: Lot,
        month: YearMonth,
        region_selected: bool,
    ) -> Option<(u32, NaiveDate)> {
        let day = month.first_day()
            + Duration::days(self.rng.random_range(0..i64::from(month.last_day().day())));
        if !region_selected && self.lot_serving(region, day) != Lot::BACKUP {
            return None;
        }
        let person = self.persons.len() as u32;
        let identity = random_identity(region, month.year(), &mut self.rng);
        self.persons.push(identity);
        self.person_lots.push(vec![]);
        Some((person, day))
    }

    /// A person's path through the work units from `day` in `region`.
    fn journey(&mut self, person: u32, region: Lot, day: NaiveDate) -> Option<NaiveDate> {
        let statut = eligible_status(&mut self.rng);
        let mut day = day;
        if self.rng.random_bool(0.6) {
            self.dossier(person, region, WorkUnit::Uo0, day, statut, None);
            day += Duration::days(self.rng.random_range(1..=15));
        }
        let mut continue_uo21 = true;
        if self.rng.random_bool(0.8) {
            if day > self.end {
                return None;
            }
            let i = self.dossier(person, region, WorkUnit::Uo1, day, statut, None);
            let closed = self.dossiers[i]
                .closure
                .filter(|(_, m)| *m != "ABANDON_DELAI");
            continue_uo21 = closed.is_some() && self.rng.random_bool(0.28);
            if let Some((c, _)) = closed {
                day = c + Duration::days(self.rng.random_range(1..=20));
            }
        }
        if !continue_uo21 || day > self.end {
            return Some(day);
        }
        let i = self.dossier(person, region, WorkUnit::Uo21, day, statut, None);
        let (numero, eng, closure) = {
            let d = &self.dossiers[i];
            (d.numero.clone(), d.engagement, d.closure)
        };
        if let Some((c, m)) = closure {
            if m != "ABANDON_DELAI" && self.rng.random_bool(0.5) {
                let day22 = c + Duration::days(self.rng.random_range(1..=25));
                if day22 <= self.end && day22 < add_months(eng, 18) {
                    // A UO2.2 continues the UO2.1 at the operator that holds it.
                    let lot21 = self.dossiers[i].lot;
                    let region22 = if lot21.is_backup() { region } else { lot21 };
                    let j = self.dossier(
                        person,
                        region22,
                        WorkUnit::Uo22,
                        day22,
                        statut,
                        Some((&numero, eng)),
                    );
                    // Keep the UO2.2 at the same operator as its UO2.1 even after a takeover ends.
                    if self.dossiers[j].lot != lot21 {
                        self.dossiers.pop();
                    }
                }
            }
            return Some(c);
        }
        Some(day)
    }
}

/// Builds the whole dataset.
pub(crate) fn build(config: &SynthConfig) -> Dataset {
    let start = config.start.first_day();
    let end = config.start.plus(config.months as i32 - 1).last_day();
    let weights = employment_weights();
    let with_backup = config.lots.contains(&Lot::BACKUP);
    let takeover = (with_backup && config.months >= 2).then(|| {
        let from = config
            .start
            .plus((config.months as i32 / 3).max(0))
            .first_day();
        let to = config
            .start
            .plus((config.months as i32 / 3 + 2).min(config.months as i32 - 1))
            .last_day();
        (Lot::parse("17").expect("Guyane"), from, to)
    });
    let mut b = Builder {
        config,
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        start,
        end,
        persons: vec![],
        person_lots: vec![],
        operator_persons: vec![],
        dossiers: vec![],
        counters: BTreeMap::new(),
        orders: BTreeMap::new(),
        takeover,
    };
    let regions: Vec<Lot> = Lot::regional()
        .filter(|l| config.lots.contains(l) || (with_backup && takeover.is_some_and(|t| t.0 == *l)))
        .collect();
    let mut pending_moves: Vec<(NaiveDate, u32, Lot)> = vec![];
    for m in 0..config.months {
        let month = config.start.plus(m as i32);
        for &region in &regions {
            let share = weights[&region] * config.scale;
            let count = |n: f64, rng: &mut ChaCha8Rng| {
                let x = n * share;
                x.floor() as u32 + u32::from(rng.random_bool(x.fract()))
            };
            let entrants = count(15_000.0, &mut b.rng);
            let uo0_only = count(21_000.0, &mut b.rng);
            let region_selected = config.lots.contains(&region);
            for _ in 0..entrants {
                let Some((person, day)) = b.new_person(region, month, region_selected) else {
                    continue;
                };
                if let Some(after) = b.journey(person, region, day) {
                    // Some re-engage later at another operator (moving, a second project).
                    if b.rng.random_bool(0.04) && regions.len() > 1 {
                        let other = *regions.choose(&mut b.rng).expect("non-empty");
                        if other != region {
                            pending_moves.push((
                                after + Duration::days(b.rng.random_range(20..200)),
                                person,
                                other,
                            ));
                        }
                    }
                    // A few are followed by two operators at once (against CCTP 1.2.4).
                    if b.rng.random_bool(0.004) && regions.len() > 1 {
                        let other = *regions.choose(&mut b.rng).expect("non-empty");
                        if other != region && config.lots.contains(&other) {
                            let d2 = day + Duration::days(b.rng.random_range(5..20));
                            if d2 <= end {
                                let statut = eligible_status(&mut b.rng);
                                let i = b.dossier(person, other, WorkUnit::Uo1, d2, statut, None);
                                b.dossiers[i].facts.push("CONCURRENT_CEP");
                            }
                        }
                    }
                }
            }
            for _ in 0..uo0_only {
                let Some((person, day)) = b.new_person(region, month, region_selected) else {
                    continue;
                };
                let ineligible = b.rng.random_bool(0.15);
                let statut = if ineligible {
                    pick(&["DEMANDEUR_EMPLOI", "AGENT_PUBLIC", "AUTRE"], &mut b.rng)
                } else {
                    eligible_status(&mut b.rng)
                };
                let i = b.dossier(person, region, WorkUnit::Uo0, day, statut, None);
                if ineligible {
                    b.dossiers[i].facts.push("INELIGIBLE_UO0");
                }
            }
        }
        // Moves whose day falls in this month.
        pending_moves.sort_by_key(|m| (m.0, m.1));
        let (now, later): (Vec<_>, Vec<_>) = pending_moves
            .into_iter()
            .partition(|(d, _, _)| YearMonth::of(*d) <= month);
        pending_moves = later;
        for (day, person, region) in now {
            if day <= end && config.lots.contains(&b.lot_serving(region, day)) {
                b.journey(person, region, day);
            }
        }
    }
    // Purchase orders sized to the volumes: 15 % headroom, but a few lots' orders run short.
    let short_lots = [
        Lot::parse("03").expect("lot"),
        Lot::parse("07").expect("lot"),
    ];
    let mut orders: Vec<Order> = vec![];
    for ((lot, _uo, _year), list) in std::mem::take(&mut b.orders) {
        for mut o in list {
            let factor = if short_lots.contains(&lot) {
                0.75
            } else {
                1.15
            };
            o.quantity = ((f64::from(o.used) * factor).ceil() as u32).max(1);
            orders.push(o);
        }
    }
    inject(&mut b);
    // A BC_MISMATCH reference points at the lot's order of another UO (write.rs): make sure it
    // exists even where the lot engaged no dossier of that UO in the year.
    for d in &b.dossiers {
        if d.injection != Some(Injection::BcMismatch) {
            continue;
        }
        let other = if d.uo == WorkUnit::Uo0 {
            WorkUnit::Uo1
        } else {
            WorkUnit::Uo0
        };
        let year = d.engagement.year();
        let reference = format!("{year:04}-Lot{}-UO{}-01", d.lot, other.column_code());
        if !orders.iter().any(|o| o.reference == reference) {
            orders.push(Order {
                reference,
                lot: d.lot,
                uo: other,
                year,
                quantity: 1,
                price_cents: if other == WorkUnit::Uo0 {
                    2_500
                } else {
                    18_000
                },
                used: 0,
            });
        }
    }
    let complaints = complaints(&mut b);
    let satisfaction = Lot::all()
        .map(|l| (l, 0.80 + 0.012 * f64::from(l.number() % 10)))
        .collect();
    Dataset {
        start: b.start,
        end: b.end,
        persons: b.persons,
        operator_persons: b.operator_persons,
        dossiers: b.dossiers,
        orders,
        complaints,
        operator_codes: Lot::all().map(|l| (l, operator_code(l))).collect(),
        satisfaction,
        takeover: b.takeover,
    }
}

/// Whether a dossier carries no natural anomaly (so an injected one stands alone).
fn clean(b: &Builder<'_>, d: &Dossier) -> bool {
    let op = &b.operator_persons[d.op_person as usize];
    d.facts.is_empty()
        && !op.corruptions.contains(&"nir_wrong_key")
        && !op.corruptions.contains(&"day_month_swapped")
}

fn inject(b: &mut Builder<'_>) {
    let n = b.dossiers.len();
    if n == 0 {
        return;
    }
    // At least one of each kind, then more at the configured rate.
    let mut plan: Vec<Injection> = Injection::ALL.to_vec();
    let extra = (n as f64 * b.config.anomaly_rate).round() as usize;
    for _ in 0..extra.saturating_sub(plan.len()) {
        plan.push(*Injection::ALL.choose(&mut b.rng).expect("non-empty"));
    }
    for kind in plan {
        for _ in 0..20_000 {
            let i = b.rng.random_range(0..n);
            let d = &b.dossiers[i];
            if d.injection.is_some() || !clean(b, d) || d.fiche_days.is_empty() || !kind.suits(d) {
                continue;
            }
            if kind == Injection::BcDuplicate {
                // Reuse the reference of an earlier dossier of the same lot and UO.
                let (lot, uo, eng) = (d.lot, d.uo, d.engagement);
                let Some(j) = (0..n).find(|&j| {
                    let o = &b.dossiers[j];
                    o.lot == lot
                        && o.uo == uo
                        && o.fiche_days.first().is_some_and(|f| *f < eng)
                        && o.injection.is_none()
                }) else {
                    continue;
                };
                b.dossiers[i].reference_bc = b.dossiers[j].reference_bc.clone();
            }
            if kind == Injection::Deadline {
                // Closed three days after the deadline: an abandonment on the deadline (DEADLINE).
                let d = &mut b.dossiers[i];
                let (Some(dl), Some((old, motif))) = (d.deadline(), d.closure) else {
                    continue;
                };
                let late = dl + Duration::days(3);
                if late > b.end {
                    continue;
                }
                d.closure = Some((late, motif));
                if let Some(last) = d.interactions.last_mut().filter(|l| l.0 == old) {
                    last.0 = late;
                }
                d.fiche_days.retain(|x| *x != old);
                d.fiche_days.push(late);
                d.fiche_days.sort_unstable();
                d.fiche_days.dedup();
            }
            b.dossiers[i].injection = Some(kind);
            break;
        }
    }
}

fn complaints(b: &mut Builder<'_>) -> Vec<Complaint> {
    let mut out = vec![];
    let motifs = [
        "DELAI_RDV",
        "QUALITE_CONSEIL",
        "ACCESSIBILITE",
        "CONFIDENTIALITE",
        "NEUTRALITE",
        "LIVRABLE",
        "AUTRE",
    ];
    let mut seq: BTreeMap<Lot, u32> = BTreeMap::new();
    for (i, d) in b.dossiers.iter().enumerate() {
        if d.uo == WorkUnit::Uo0 || d.injection.is_some() || !b.rng.random_bool(0.004) {
            continue;
        }
        let reception = *d.fiche_days.last().unwrap_or(&d.engagement)
            + Duration::days(b.rng.random_range(1..30));
        if reception > b.end {
            continue;
        }
        let late_ack = b.rng.random_bool(0.1);
        let ack = reception
            + Duration::days(if late_ack {
                b.rng.random_range(8..20)
            } else {
                b.rng.random_range(0..=7)
            });
        let answer = reception + Duration::days(b.rng.random_range(5..60));
        let n = seq.entry(d.lot).or_insert(0);
        *n += 1;
        out.push(Complaint {
            lot: d.lot,
            id: format!("R{}-{:05}", d.lot, n),
            dossier: i as u32,
            reception,
            motif: pick(&motifs, &mut b.rng),
            ack: (ack <= b.end).then_some(ack),
            answer: (answer <= b.end).then_some(answer),
            escalated: b.rng.random_bool(0.08),
        });
    }
    out
}
