//! `DOSSIERS` records (spec §4.1): the columns, their types and mandatory levels, and the
//! checks of layers (c)–(e) of point 9 that need nothing but the line itself and the small
//! registries given in [`LineContext`].

use crate::anomaly::{AnomalyCode as C, LineAnomalies};
use crate::values::{self, ListError};
use cep_domain::deadline::{ClosureMotif, deadline};
use cep_domain::ids::{ConsumptionRef, DossierNumber, StatementNumber};
use cep_domain::nir::{Nir, Sex};
use cep_domain::reference::RefTable;
use cep_domain::{Lot, WorkUnit};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The type of a column's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Timestamp,
    DossierNumber,
    /// `numero_dossier_uo21`: a UO2.1 dossier number.
    Uo21Number,
    Uo,
    RegionLot,
    /// Names, addresses, e-mail, labels: 200 characters.
    Text,
    /// 2,000 characters, not trimmed.
    FreeText,
    Sexe,
    Date,
    Month,
    Bool,
    Ref(RefTable),
    RefList(RefTable),
    DateList,
    Nir,
    Sha256,
    ConsumptionRef,
    StatementNumber,
}

/// When a column is mandatory (spec §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Every fiche.
    L0,
    /// UO1, 2.1, 2.2.
    L1,
    /// UO2.1, 2.2.
    L2,
    /// UO2.2 only.
    L22,
    /// UO2.2 once closed (`22 (C)`).
    L22Closed,
    /// UO1, 2.1, 2.2 once closed (`motif_cloture`).
    Closed,
    /// UO0 only (`aiguillage`).
    Uo0,
    /// Lot 19 files only (`region_lot`, point 16).
    Lot19,
    Optional,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub level: Level,
}

const fn c(name: &'static str, kind: Kind, level: Level) -> Column {
    Column { name, kind, level }
}

use Kind as K;
use Level as L;

/// The columns of `DOSSIERS`, in the spec's order.
pub const COLUMNS: [Column; 53] = [
    c("horodatage", K::Timestamp, L::L0),
    c("numero_dossier", K::DossierNumber, L::L0),
    c("uo", K::Uo, L::L0),
    c("region_lot", K::RegionLot, L::Lot19),
    c("identifiant_beneficiaire", K::Text, L::L0),
    c("nir", K::Nir, L::Optional),
    c("nom", K::Text, L::L0),
    c("nom_usage", K::Text, L::Optional),
    c("prenom", K::Text, L::L0),
    c("sexe", K::Sexe, L::L1),
    c("date_naissance", K::Date, L::L0),
    c("adresse_numero", K::Text, L::L1),
    c("adresse_type_voie", K::Text, L::L1),
    c("adresse_voie", K::Text, L::L1),
    c("adresse_commune", K::Text, L::L1),
    c("adresse_code_postal", K::Text, L::L1),
    c(
        "entreprise_departement",
        K::Ref(RefTable::Departement),
        L::Optional,
    ),
    c("entreprise_code_postal", K::Text, L::Optional),
    c("entreprise_commune", K::Text, L::Optional),
    c("structure", K::Text, L::L1),
    c("handicap", K::Ref(RefTable::Handicap), L::Optional),
    c("niveau_formation", K::Ref(RefTable::NiveauFormation), L::L1),
    c("secteur_activite", K::Ref(RefTable::SecteurActivite), L::L1),
    c("libelle_secteur", K::Text, L::L1),
    c(
        "taille_entreprise",
        K::Ref(RefTable::TailleEntreprise),
        L::L1,
    ),
    c(
        "categorie_sociale",
        K::Ref(RefTable::CategorieSociale),
        L::L1,
    ),
    c("libelle_profession", K::Text, L::L1),
    c("statut", K::Ref(RefTable::Statut), L::L0),
    c("entree_entreprise", K::Month, L::L1),
    c("email", K::Text, L::L1),
    c("telephone", K::Text, L::Optional),
    c("date_engagement", K::Date, L::L0),
    c("date_cloture", K::Date, L::Optional),
    c("motif_cloture", K::Ref(RefTable::MotifCloture), L::Closed),
    c("numero_decompte", K::StatementNumber, L::Optional),
    c("reference_bc", K::ConsumptionRef, L::L0),
    c("origine", K::Ref(RefTable::Origine), L::L0),
    c("motif", K::Ref(RefTable::Motif), L::L0),
    c("motif_detaille", K::Ref(RefTable::MotifDetaille), L::L0),
    c("aiguillage", K::Ref(RefTable::Aiguillage), L::Uo0),
    c("date_demande_rdv", K::Date, L::Optional),
    c("dates_interactions", K::DateList, L::L0),
    c("modes_contact", K::RefList(RefTable::ModeContact), L::L0),
    c("numero_dossier_uo21", K::Uo21Number, L::L22),
    c("types_service", K::RefList(RefTable::TypeService), L::L2),
    c("description_service", K::FreeText, L::L22Closed),
    c(
        "prestations_complementaires",
        K::RefList(RefTable::Prestation),
        L::L2,
    ),
    c("auto_prescription", K::Bool, L::L2),
    c(
        "financement_formation",
        K::RefList(RefTable::Financement),
        L::L2,
    ),
    c(
        "decouvertes_metiers",
        K::RefList(RefTable::Decouverte),
        L::L2,
    ),
    c("projet_reconversion_cpir", K::Bool, L::Optional),
    c(
        "etat_projet_cloture",
        K::Ref(RefTable::EtatProjet),
        L::L22Closed,
    ),
    c("livrable_sha256", K::Sha256, L::Optional),
];

/// Column indexes, by name.
#[allow(missing_docs)]
pub mod col {
    pub const HORODATAGE: usize = 0;
    pub const NUMERO_DOSSIER: usize = 1;
    pub const UO: usize = 2;
    pub const REGION_LOT: usize = 3;
    pub const IDENTIFIANT: usize = 4;
    pub const NIR: usize = 5;
    pub const NOM: usize = 6;
    pub const NOM_USAGE: usize = 7;
    pub const PRENOM: usize = 8;
    pub const SEXE: usize = 9;
    pub const DATE_NAISSANCE: usize = 10;
    pub const ADRESSE_NUMERO: usize = 11;
    pub const ADRESSE_TYPE_VOIE: usize = 12;
    pub const ADRESSE_VOIE: usize = 13;
    pub const ADRESSE_COMMUNE: usize = 14;
    pub const ADRESSE_CODE_POSTAL: usize = 15;
    pub const ENTREPRISE_DEPARTEMENT: usize = 16;
    pub const ENTREPRISE_CODE_POSTAL: usize = 17;
    pub const ENTREPRISE_COMMUNE: usize = 18;
    pub const STRUCTURE: usize = 19;
    pub const HANDICAP: usize = 20;
    pub const NIVEAU_FORMATION: usize = 21;
    pub const SECTEUR_ACTIVITE: usize = 22;
    pub const LIBELLE_SECTEUR: usize = 23;
    pub const TAILLE_ENTREPRISE: usize = 24;
    pub const CATEGORIE_SOCIALE: usize = 25;
    pub const LIBELLE_PROFESSION: usize = 26;
    pub const STATUT: usize = 27;
    pub const ENTREE_ENTREPRISE: usize = 28;
    pub const EMAIL: usize = 29;
    pub const TELEPHONE: usize = 30;
    pub const DATE_ENGAGEMENT: usize = 31;
    pub const DATE_CLOTURE: usize = 32;
    pub const MOTIF_CLOTURE: usize = 33;
    pub const NUMERO_DECOMPTE: usize = 34;
    pub const REFERENCE_BC: usize = 35;
    pub const ORIGINE: usize = 36;
    pub const MOTIF: usize = 37;
    pub const MOTIF_DETAILLE: usize = 38;
    pub const AIGUILLAGE: usize = 39;
    pub const DATE_DEMANDE_RDV: usize = 40;
    pub const DATES_INTERACTIONS: usize = 41;
    pub const MODES_CONTACT: usize = 42;
    pub const NUMERO_DOSSIER_UO21: usize = 43;
    pub const TYPES_SERVICE: usize = 44;
    pub const DESCRIPTION_SERVICE: usize = 45;
    pub const PRESTATIONS: usize = 46;
    pub const AUTO_PRESCRIPTION: usize = 47;
    pub const FINANCEMENT: usize = 48;
    pub const DECOUVERTES: usize = 49;
    pub const CPIR: usize = 50;
    pub const ETAT_PROJET: usize = 51;
    pub const LIVRABLE: usize = 52;
}

/// Index of a column by its header name.
pub fn column_index(name: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| c.name == name)
}

/// Columns required in the header (point 1: the level-0 columns).
pub fn required_in_header() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().filter(|c| c.level == L::L0).map(|c| c.name)
}

/// The `code_operateur` of each lot over time (spec §9, `operators`).
#[derive(Debug, Clone, Default)]
pub struct OperatorRegistry {
    periods: HashMap<Lot, Vec<(String, NaiveDate, Option<NaiveDate>)>>,
}

impl OperatorRegistry {
    pub fn add(&mut self, lot: Lot, code: String, start: NaiveDate, end: Option<NaiveDate>) {
        self.periods
            .entry(lot)
            .or_default()
            .push((code, start, end));
    }
    /// Whether `code` was the lot's operator code on `day`.
    pub fn holds(&self, lot: Lot, code: &str, day: NaiveDate) -> bool {
        self.periods.get(&lot).is_some_and(|v| {
            v.iter()
                .any(|(c, s, e)| c == code && *s <= day && e.is_none_or(|e| day <= e))
        })
    }
}

/// What a line is checked against, besides itself.
#[derive(Debug, Clone, Copy)]
pub struct LineContext<'a> {
    /// The depositing lot (the file's).
    pub lot: Lot,
    pub received_at: DateTime<Utc>,
    pub operators: &'a OperatorRegistry,
}

/// The identity values of a fiche (personal data, stored apart: DESIGN decision 6).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct IdentityValues {
    pub nir: Option<String>,
    pub nom: Option<String>,
    pub nom_usage: Option<String>,
    pub prenom: Option<String>,
    pub sexe: Option<String>,
    pub date_naissance: Option<NaiveDate>,
    pub adresse_numero: Option<String>,
    pub adresse_type_voie: Option<String>,
    pub adresse_voie: Option<String>,
    pub adresse_commune: Option<String>,
    pub adresse_code_postal: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
}

impl std::fmt::Debug for IdentityValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityValues(..)")
    }
}

/// A checked fiche: the normalised value of every column, plus the typed values the rules use.
#[derive(Debug, Clone)]
pub struct FicheValues {
    pub values: Vec<Option<String>>,
    pub horodatage_utc: NaiveDateTime,
    pub numero: DossierNumber,
    pub uo: WorkUnit,
    /// `region_lot` for lot 19, the file's lot otherwise.
    pub region: Lot,
    pub date_engagement: NaiveDate,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<ClosureMotif>,
    pub uo21: Option<DossierNumber>,
    pub content_hash: String,
}

impl FicheValues {
    pub fn get(&self, column: usize) -> Option<&str> {
        self.values[column].as_deref()
    }
    pub fn identity(&self) -> IdentityValues {
        use col::*;
        let s = |i: usize| self.values[i].clone();
        IdentityValues {
            nir: s(NIR),
            nom: s(NOM),
            nom_usage: s(NOM_USAGE),
            prenom: s(PRENOM),
            sexe: s(SEXE),
            date_naissance: self.get(DATE_NAISSANCE).and_then(values::date),
            adresse_numero: s(ADRESSE_NUMERO),
            adresse_type_voie: s(ADRESSE_TYPE_VOIE),
            adresse_voie: s(ADRESSE_VOIE),
            adresse_commune: s(ADRESSE_COMMUNE),
            adresse_code_postal: s(ADRESSE_CODE_POSTAL),
            email: s(EMAIL),
            telephone: s(TELEPHONE),
        }
    }
    /// Identity columns hashed together: one identity record per distinct set.
    pub fn identity_hash(&self) -> String {
        use col::*;
        hash_columns(
            &self.values,
            &[
                NIR,
                NOM,
                NOM_USAGE,
                PRENOM,
                SEXE,
                DATE_NAISSANCE,
                ADRESSE_NUMERO,
                ADRESSE_TYPE_VOIE,
                ADRESSE_VOIE,
                ADRESSE_COMMUNE,
                ADRESSE_CODE_POSTAL,
                EMAIL,
                TELEPHONE,
            ],
        )
    }
    /// Whether the unit carries a declared voluntary closure.
    pub fn closed_voluntarily(&self) -> bool {
        self.date_cloture.is_some() && self.motif_cloture.is_none_or(ClosureMotif::is_voluntary)
    }
}

/// Every column index: the content hash covers the normalised values of them all (point 12).
const ALL_COLUMNS: [usize; 53] = {
    let mut a = [0; 53];
    let mut i = 0;
    while i < 53 {
        a[i] = i;
        i += 1;
    }
    a
};

fn hash_columns(values: &[Option<String>], columns: &[usize]) -> String {
    let mut h = Sha256::new();
    for &i in columns {
        match &values[i] {
            Some(v) => {
                h.update([1u8]);
                h.update(v.as_bytes());
            }
            None => h.update([0u8]),
        }
        h.update([0x1f]);
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(H[usize::from(b >> 4)]));
        s.push(char::from(H[usize::from(b & 15)]));
    }
    s
}

/// The UO that decides mandatory levels (point 10), and whether the line is closed.
#[derive(Debug, Clone, Copy)]
struct Levels {
    uo: Option<WorkUnit>,
    closed: bool,
    lot19: bool,
}

impl Levels {
    fn mandatory(self, level: Level) -> bool {
        let uo = self.uo;
        let is = |u: &[WorkUnit]| uo.is_some_and(|x| u.contains(&x));
        use WorkUnit::*;
        match level {
            L::L0 => true,
            L::Lot19 => self.lot19,
            L::L1 => is(&[Uo1, Uo21, Uo22]),
            L::L2 => is(&[Uo21, Uo22]),
            L::L22 => is(&[Uo22]),
            L::L22Closed => is(&[Uo22]) && self.closed,
            L::Closed => is(&[Uo1, Uo21, Uo22]) && self.closed,
            L::Uo0 => is(&[Uo0]),
            L::Optional => false,
        }
    }
}

fn max_chars(kind: Kind) -> usize {
    match kind {
        K::FreeText => 2000,
        K::RefList(_) | K::DateList => usize::MAX, // checked per element and count
        _ => 200,
    }
}

/// Checks one `DOSSIERS` line given as one raw value per column, in [`COLUMNS`] order
/// (`None`: column absent from the file). Returns the fiche when nothing blocking was found.
pub fn check_line(
    raw: Vec<Option<String>>,
    ctx: &LineContext<'_>,
    an: &mut LineAnomalies,
) -> Option<FicheValues> {
    assert_eq!(raw.len(), COLUMNS.len(), "one value per DOSSIERS column");
    // Values trimmed in place (free text kept as it is); empty means absent (point 4).
    let mut v = raw;
    for (slot, c) in v.iter_mut().zip(COLUMNS.iter()) {
        let Some(s) = slot.as_deref() else { continue };
        let kept = if c.kind == K::FreeText {
            values::free_text(s)
        } else {
            values::trimmed(s)
        };
        match kept {
            None => *slot = None,
            Some(t) if t.len() != s.len() => *slot = Some(t.to_owned()),
            Some(_) => {}
        }
    }
    let mut bad = [false; 53];

    // The dossier number and the UO decide the levels (point 10).
    let numero = v[col::NUMERO_DOSSIER]
        .as_deref()
        .map(|s| s.parse::<DossierNumber>());
    if let Some(n) = &v[col::NUMERO_DOSSIER] {
        an.set_dossier(n);
    }
    let uo_col = v[col::UO].as_deref().map(WorkUnit::from_column_code);
    let mut levels_uo = None;
    if let (Some(Ok(n)), Some(Ok(u))) = (&numero, &uo_col)
        && n.work_unit() == *u
    {
        levels_uo = Some(*u);
    }
    let closed_raw = v[col::DATE_CLOTURE]
        .as_deref()
        .and_then(values::date)
        .is_some();
    let levels = Levels {
        uo: levels_uo,
        closed: closed_raw,
        lot19: ctx.lot.is_backup(),
    };

    // (b) lengths: blocking for a mandatory field (stops the line), else dropped (point 7).
    for (i, c) in COLUMNS.iter().enumerate() {
        let Some(val) = &v[i] else { continue };
        let limit = max_chars(c.kind);
        // Bytes bound characters from above: count characters only when it can matter.
        if limit != usize::MAX && val.len() > limit && val.chars().count() > limit {
            let detail = format!("{} caractères au plus", limit);
            if levels.mandatory(c.level) {
                an.blocking(C::FieldTooLong, c.name, &detail);
            } else {
                an.warning(
                    C::FieldTooLong,
                    c.name,
                    &format!("{detail} ; valeur ignorée"),
                );
                v[i] = None;
                bad[i] = true;
            }
        }
    }
    if an.has_blocking() {
        return None;
    }

    // (c) syntax and reference codes, column by column.
    let mut nir_status: Option<Result<Nir, ()>> = None;
    for (i, c) in COLUMNS.iter().enumerate() {
        // Taken out and put back below: normalised, kept, or dropped (optional and invalid).
        let Some(val) = v[i].take() else { continue };
        let mandatory = levels.mandatory(c.level);
        let mut failed: Option<(C, String)> = None;
        let mut normalised: Option<String> = None;
        match c.kind {
            K::Timestamp => {
                if values::timestamp(&val).is_none() {
                    failed = Some((
                        C::FieldFormat,
                        format!(
                            "« {val} » n'est pas un horodatage AAAA-MM-JJTHH:MM:SS avec décalage horaire (ex. 2025-10-14T18:02:11+02:00)"
                        ),
                    ));
                }
            }
            K::DossierNumber => {
                if let Some(Err(e)) = &numero {
                    failed = Some((
                        C::DossierFormat,
                        format!(
                            "« {val} » ne suit pas le format OOAAMMUUXXXXXX (partie fautive : {})",
                            e.part()
                        ),
                    ));
                }
            }
            K::Uo21Number => {
                if !val
                    .parse::<DossierNumber>()
                    .is_ok_and(|n| n.work_unit() == WorkUnit::Uo21)
                {
                    failed = Some((
                        C::DossierFormat,
                        format!(
                            "« {val} » n'est pas un numéro de dossier d'UO 2.1 (OOAAMM21XXXXXX)"
                        ),
                    ));
                }
            }
            K::Uo => {
                if uo_col.as_ref().is_some_and(Result::is_err) {
                    failed = Some((
                        C::FieldFormat,
                        format!("« {val} » : valeurs admises 00, 01, 2.1, 2.2"),
                    ));
                }
            }
            K::RegionLot => {
                let ok = Lot::parse(&val).is_ok_and(|l| l.is_regional());
                if !ok {
                    failed = Some((
                        C::FieldFormat,
                        format!("« {val} » : lot régional attendu, de 01 à 18"),
                    ));
                }
            }
            K::Text | K::FreeText => {}
            K::Sexe => {
                if Sex::from_code(&val).is_none() {
                    failed = Some((
                        C::RefCode,
                        format!("« {val} » : valeurs admises 1 (homme), 2 (femme)"),
                    ));
                }
            }
            K::Date => {
                if values::date(&val).is_none() {
                    failed = Some((
                        C::FieldFormat,
                        format!("« {} » n'est pas une date AAAA-MM-JJ", shown(c.name, &val)),
                    ));
                }
            }
            K::Month => {
                if values::month(&val).is_none() {
                    failed = Some((
                        C::FieldFormat,
                        format!("« {val} » n'est pas un mois AAAA-MM"),
                    ));
                }
            }
            K::Bool => {
                if values::boolean(&val).is_none() {
                    failed = Some((C::FieldFormat, format!("« {val} » : valeurs admises O, N")));
                }
            }
            K::Ref(t) => {
                if !t.contains(&val) {
                    failed = Some((
                        C::RefCode,
                        format!("« {val} » n'est pas un code de la table {}", t.name()),
                    ));
                }
            }
            K::RefList(t) => match values::list(&val) {
                Err(e) => failed = Some((C::FieldFormat, list_error(e))),
                Ok(items) => {
                    if let Some(badc) = items.iter().find(|x| !t.contains(x)) {
                        failed = Some((
                            C::RefCode,
                            format!("« {badc} » n'est pas un code de la table {}", t.name()),
                        ));
                    } else if items.len() > 1 && items.iter().any(|x| t.none_code() == Some(*x)) {
                        failed = Some((
                            C::FieldFormat,
                            format!(
                                "« {} » doit être seul dans la liste",
                                t.none_code().unwrap_or_default()
                            ),
                        ));
                    } else {
                        // Duplicates dropped silently (point 5); pairs keep their positions.
                        if i != col::MODES_CONTACT {
                            let mut seen = Vec::with_capacity(items.len());
                            for x in items {
                                if !seen.contains(&x) {
                                    seen.push(x);
                                }
                            }
                            normalised = Some(seen.join("|"));
                        } else {
                            normalised = Some(items.join("|"));
                        }
                    }
                }
            },
            K::DateList => match values::list(&val) {
                Err(e) => failed = Some((C::FieldFormat, list_error(e))),
                Ok(items) => {
                    if let Some(x) = items.iter().find(|x| values::date(x).is_none()) {
                        failed = Some((
                            C::FieldFormat,
                            format!("« {x} » n'est pas une date AAAA-MM-JJ"),
                        ));
                    } else {
                        normalised = Some(items.join("|"));
                    }
                }
            },
            K::Nir => {
                let norm = cep_domain::nir::normalise(&val);
                match Nir::parse(&norm) {
                    Ok(n) => {
                        normalised = Some(n.as_str().to_owned());
                        nir_status = Some(Ok(n));
                    }
                    Err(e) if e.is_key_error() => {
                        normalised = Some(norm);
                        bad[i] = true;
                        nir_status = Some(Err(()));
                        an.warning(C::NirKey, c.name, "la clé ne correspond pas aux 13 premiers caractères ; le NIR n'est pas utilisé pour le rapprochement des personnes");
                    }
                    Err(_) => {
                        failed = Some((
                            C::FieldFormat,
                            "NIR mal formé (13 caractères et une clé de 2 chiffres attendus)"
                                .into(),
                        ))
                    }
                }
            }
            K::Sha256 => {
                if val.len() == 64 && val.bytes().all(|b| b.is_ascii_hexdigit()) {
                    normalised = Some(val.to_ascii_lowercase());
                } else {
                    failed = Some((
                        C::FieldFormat,
                        "empreinte SHA-256 de 64 caractères hexadécimaux attendue".into(),
                    ));
                }
            }
            K::ConsumptionRef => {
                if val.parse::<ConsumptionRef>().is_err() {
                    failed = Some((
                        C::FieldFormat,
                        format!("« {val} » ne suit pas le format AAAA-Lotww-UOxx-yy-zzzzz"),
                    ));
                }
            }
            K::StatementNumber => {
                let ok = val
                    .parse::<StatementNumber>()
                    .is_ok_and(|s| s.lot() == ctx.lot);
                if !ok {
                    failed = Some((
                        C::FieldFormat,
                        format!(
                            "« {val} » ne suit pas le format AAAA-Lot{}-Tq-nn du lot du fichier",
                            ctx.lot
                        ),
                    ));
                }
            }
        }
        match failed {
            Some((code, detail)) => {
                bad[i] = true;
                if mandatory {
                    an.blocking(code, c.name, &detail);
                    v[i] = Some(val);
                } else {
                    // Dropped: v[i] stays empty.
                    an.warning(code, c.name, &format!("{detail} ; valeur ignorée"));
                }
            }
            None => v[i] = Some(normalised.unwrap_or(val)),
        }
    }
    // Paired lists (point 5): one FIELD_FORMAT on modes_contact when lengths differ.
    if !bad[col::DATES_INTERACTIONS] && !bad[col::MODES_CONTACT] {
        let n = |i: usize| v[i].as_deref().map_or(0, |s| s.split('|').count());
        if n(col::DATES_INTERACTIONS) != n(col::MODES_CONTACT) {
            bad[col::MODES_CONTACT] = true;
            an.blocking(
                C::FieldFormat,
                "modes_contact",
                &format!(
                    "{} modes de contact pour {} dates d'interaction : les deux listes vont par paires",
                    n(col::MODES_CONTACT),
                    n(col::DATES_INTERACTIONS)
                ),
            );
        }
    }

    // (d) missing mandatory values.
    for (i, c) in COLUMNS.iter().enumerate() {
        if v[i].is_none() && !bad[i] && levels.mandatory(c.level) {
            bad[i] = true;
            an.blocking(C::MissingValue, c.name, "valeur obligatoire pour cette UO");
        }
    }
    // A closure motif without a closure date (point 22).
    if v[col::MOTIF_CLOTURE].is_some() && v[col::DATE_CLOTURE].is_none() && !bad[col::DATE_CLOTURE]
    {
        bad[col::DATE_CLOTURE] = true;
        an.blocking(
            C::MissingValue,
            "date_cloture",
            "un motif de clôture est donné sans date de clôture",
        );
    }

    // (e) rules within the line, each skipped when one of its inputs failed.
    let ok = |i: usize| !bad[i] && v[i].is_some();
    let stamp = ok(col::HORODATAGE)
        .then(|| values::timestamp(v[col::HORODATAGE].as_deref()?))
        .flatten();
    let engagement = ok(col::DATE_ENGAGEMENT)
        .then(|| values::date(v[col::DATE_ENGAGEMENT].as_deref()?))
        .flatten();
    let cloture = ok(col::DATE_CLOTURE)
        .then(|| values::date(v[col::DATE_CLOTURE].as_deref()?))
        .flatten();
    let numero_ok = numero.as_ref().and_then(|r| r.as_ref().ok()).copied();
    let uo_ok = uo_col.as_ref().and_then(|r| r.as_ref().ok()).copied();

    if let (Some(n), Some(u)) = (numero_ok, uo_ok)
        && ok(col::UO)
        && n.work_unit() != u
    {
        an.blocking(
            C::DossierFormat,
            "uo",
            &format!(
                "l'UO {} ne correspond pas à l'UO {} du numéro de dossier",
                u.column_code(),
                n.work_unit().dossier_code()
            ),
        );
    }
    if let Some(ts) = stamp {
        let utc = ts.with_timezone(&Utc);
        let floor = NaiveDate::from_ymd_opt(2019, 12, 1)
            .expect("valid")
            .and_hms_opt(0, 0, 0)
            .expect("valid");
        if utc > ctx.received_at + chrono::Duration::minutes(5) {
            an.blocking(
                C::Horodatage,
                "horodatage",
                "postérieur de plus de 5 minutes à la réception du fichier",
            );
        } else if ts.naive_local() < floor {
            an.blocking(
                C::Horodatage,
                "horodatage",
                "antérieur au 2019-12-01, début de l'accord-cadre",
            );
        }
        // Dates after the fiche's own day (point 14).
        let day = ts.date_naive();
        for (i, c) in COLUMNS.iter().enumerate() {
            if !ok(i) {
                continue;
            }
            let val = v[i].as_deref().unwrap_or_default();
            let future = match c.kind {
                K::Date => values::date(val).is_some_and(|d| d > day),
                K::DateList => val.split('|').filter_map(values::date).any(|d| d > day),
                K::Month => {
                    values::month(val).is_some_and(|(y, m)| (y, m) > (day.year(), day.month()))
                }
                _ => false,
            };
            if future {
                an.blocking(
                    C::FutureDate,
                    c.name,
                    &format!("date postérieure au jour de l'horodatage ({day})"),
                );
            }
        }
    }
    if let (Some(n), Some(e)) = (numero_ok, engagement) {
        if !n.created_in_month_of(e) {
            an.warning(
                C::DossierMois,
                "numero_dossier",
                &format!(
                    "le mois AAMM du numéro ({:02}{:02}) diffère du mois d'engagement {}",
                    n.year2(),
                    n.month(),
                    &e.to_string()[..7]
                ),
            );
        }
        if !ctx.operators.holds(ctx.lot, n.operator().as_str(), e) {
            an.blocking(C::DossierOperator, "numero_dossier", &format!("le code opérateur {} n'est pas celui du titulaire du lot {} à la date d'engagement", n.operator().as_str(), ctx.lot));
        }
    }
    // region_lot (point 16).
    let mut region = ctx.lot;
    if let Some(r) = v[col::REGION_LOT]
        .as_deref()
        .filter(|_| ok(col::REGION_LOT))
    {
        let r = Lot::parse(r).expect("checked in (c)");
        if ctx.lot.is_backup() {
            region = r;
        } else if r != ctx.lot {
            an.blocking(
                C::RegionLot,
                "region_lot",
                &format!("lot {r} déclaré dans un fichier du lot {}", ctx.lot),
            );
        }
    }
    // NIR consistency with sex and birth date (point 19).
    if let (Some(Ok(n)), true, true) = (
        &nir_status,
        ok(col::SEXE) || v[col::SEXE].is_none(),
        ok(col::DATE_NAISSANCE),
    ) {
        let sex = v[col::SEXE].as_deref().and_then(Sex::from_code);
        let birth = v[col::DATE_NAISSANCE].as_deref().and_then(values::date);
        if !n.mismatches(sex, birth).is_empty() {
            an.warning(C::NirMismatch, "nir", "le sexe ou l'année/le mois de naissance du NIR ne correspondent pas aux colonnes sexe et date_naissance");
        }
    }
    // Date order (point 21) and deadlines (point 20).
    let unit = levels.uo;
    if let Some(e) = engagement {
        if let Some(c) = cloture
            && c < e
        {
            an.blocking(
                C::DateOrder,
                "date_cloture",
                "la date de clôture précède la date d'engagement",
            );
        }
        if ok(col::DATES_INTERACTIONS) {
            let upper = if unit == Some(WorkUnit::Uo0) {
                Some(e)
            } else {
                cloture.filter(|c| *c >= e)
            };
            let outside = v[col::DATES_INTERACTIONS]
                .as_deref()
                .unwrap_or_default()
                .split('|')
                .filter_map(values::date)
                .any(|d| d < e || upper.is_some_and(|u| d > u));
            if outside {
                an.blocking(C::DateOrder, "dates_interactions", "une date d'interaction est hors de la période [engagement, clôture] du dossier");
            }
        }
        if let (Some(u), Some(c)) = (unit, cloture) {
            // A UO2.2's deadline needs its UO2.1: checked with the store.
            let due = deadline(u, e, None);
            if let Some(due) = due
                && c > due
                && c >= e
            {
                let extra = if u == WorkUnit::Uo0 {
                    "l'UO 0 se clôt le jour de son engagement"
                } else {
                    "l'unité est réputée abandonnée à l'échéance"
                };
                an.warning(
                    C::Deadline,
                    "date_cloture",
                    &format!("clôture le {c}, échéance le {due} : {extra}"),
                );
            }
        }
    }

    if an.has_blocking() {
        return None;
    }
    let ts = stamp?;
    let numero = numero_ok?;
    let uo = unit?;
    let date_engagement = engagement?;
    let uo21 = v[col::NUMERO_DOSSIER_UO21]
        .as_deref()
        .and_then(|s| s.parse().ok());
    let motif_cloture = v[col::MOTIF_CLOTURE]
        .as_deref()
        .and_then(ClosureMotif::from_code);
    let content_hash = hash_columns(&v, &ALL_COLUMNS);
    Some(FicheValues {
        horodatage_utc: ts.with_timezone(&Utc).naive_utc(),
        numero,
        uo,
        region,
        date_engagement,
        date_cloture: cloture,
        motif_cloture,
        uo21,
        content_hash,
        values: v,
    })
}

/// Identity values are never echoed in reports (point 31).
fn shown<'a>(column: &str, value: &'a str) -> &'a str {
    if column == "date_naissance" {
        "valeur masquée"
    } else {
        value
    }
}

fn list_error(e: ListError) -> String {
    match e {
        ListError::EmptyElement => "élément vide dans la liste (valeurs séparées par |)".into(),
        ListError::TooMany(n) => format!("plus de {n} éléments dans la liste"),
        ListError::ElementTooLong(n) => format!("élément de liste de plus de {n} caractères"),
    }
}
