//! Every dossier as known at a data cut-off (DESIGN decision 2; indicators-v1 "Common terms"):
//! its latest fiche received by then and what the rules derive from it — the effective closure,
//! the region served, the national person, continuity of eligibility, the concurrent CEP, the
//! delay of 8.4 and, for closed units, the billing verdict. It is computed once per cut-off
//! ([`AsOf::load`]) and read by billing ([`AsOf::units`]), the indicators and the committee
//! documents, so that they cannot disagree.

use crate::BillingError;
use crate::units::Unit;
use cep_domain::billable::{self, BillingRules, ClosedUnit, OrderLink, Verdict};
use cep_domain::deadline::UnitDates;
use cep_domain::ids::{ConsumptionRef, PurchaseOrderRef};
use cep_domain::person::{OtherDossier, concurrent_cep, in_continuity};
use cep_domain::reference::is_eligible;
use cep_domain::{Closure, Lot, WorkUnit, paris};
use cep_store::DbConnection;
use cep_store::models::buyer::PurchaseOrder;
use cep_store::models::dossiers::StateFiche;
use cep_store::models::link::national_ids;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::{HashMap, HashSet};

/// One dossier as known at the cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierAsOf {
    pub dossier_id: i64,
    pub numero: String,
    /// The lot of the file that sent it.
    pub lot: Lot,
    /// The regional lot served ([`Lot::region_served`]).
    pub region: Lot,
    pub uo: WorkUnit,
    pub operator_person_id: i64,
    /// The national person (identity resolution), else `op:{operator person id}`.
    pub person: String,
    /// Its latest fiche received by the cut-off.
    pub fiche: StateFiche,
    /// The deadline (`None` for a UO2.2 whose UO2.1 is unknown).
    pub deadline: Option<NaiveDate>,
    /// The effective closure at the cut-off's date (`None` while open).
    pub closure: Option<Closure>,
    pub in_continuity: bool,
    pub eligible: bool,
    /// `CONCURRENT_CEP` at the cut-off (feed-format point 24).
    pub concurrent: bool,
    /// The earliest of `dates_interactions`.
    pub first_interaction: Option<NaiveDate>,
    /// Working days from the first-appointment request to the first interaction (8.4).
    pub rdv_delay: Option<i64>,
    /// The billing verdict of an effectively closed unit (`None` while open).
    pub verdict: Option<Verdict>,
}

impl DossierAsOf {
    pub fn engagement(&self) -> NaiveDate {
        self.fiche.date_engagement
    }

    /// The order named by its consumption reference (`reference_bc`), whether known or not.
    pub fn order(&self) -> Option<PurchaseOrderRef> {
        self.fiche
            .reference_bc
            .as_deref()
            .and_then(|r| r.parse::<ConsumptionRef>().ok())
            .map(|c| c.order())
    }
}

/// Every dossier at one cut-off, in dossier order.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub cutoff: NaiveDateTime,
    pub rules: BillingRules,
    pub dossiers: Vec<DossierAsOf>,
}

impl AsOf {
    /// The store as of `cutoff` (UTC), persons from identity resolution, billing per `rules`.
    pub fn load(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
        rules: BillingRules,
    ) -> Result<AsOf, BillingError> {
        let persons = national_ids(conn)?;
        AsOf::with_persons(conn, cutoff, rules, &persons)
    }

    /// [`AsOf::load`] with the person of each operator person given (`operator person id →
    /// person`; one missing from the map is a person of its own). Tests compare the answer on
    /// linked persons with the answer on the true persons.
    pub fn with_persons(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
        rules: BillingRules,
        persons: &HashMap<i64, String>,
    ) -> Result<AsOf, BillingError> {
        let today = paris::date_of(cutoff);
        let states = StateFiche::states_as_of(conn, cutoff)?;
        let ever_eligible: HashSet<i64> =
            cep_store::models::dossiers::dossiers_with_eligible_fiche(
                conn,
                cutoff,
                cep_domain::reference::ELIGIBLE_STATUSES,
            )?
            .into_iter()
            .collect();
        let engagement_of: HashMap<&str, NaiveDate> = states
            .iter()
            .map(|(d, f)| (d.numero_dossier.as_str(), f.date_engagement))
            .collect();

        let mut all: Vec<DossierAsOf> = Vec::with_capacity(states.len());
        for (d, f) in &states {
            // Dossiers store the column code (`00`, `01`, `2.1`, `2.2`), as ingestion writes it.
            let (Ok(uo), Ok(lot)) = (WorkUnit::from_column_code(&d.uo), Lot::parse(&d.lot)) else {
                continue;
            };
            let uo21 = f
                .numero_dossier_uo21
                .as_deref()
                .and_then(|n| engagement_of.get(n).copied());
            let dates = UnitDates::of_fiche(
                uo,
                f.date_engagement,
                uo21,
                f.date_cloture,
                f.motif_cloture.as_deref(),
            );
            let region = lot.region_served(Some(&d.region_lot));
            let first_interaction = f
                .dates_interactions
                .as_deref()
                .and_then(cep_domain::first_interaction);
            all.push(DossierAsOf {
                dossier_id: d.id,
                numero: d.numero_dossier.clone(),
                lot,
                region,
                uo,
                operator_person_id: d.operator_person_id,
                person: match persons.get(&d.operator_person_id) {
                    Some(n) => n.clone(),
                    None => format!("op:{}", d.operator_person_id),
                },
                deadline: dates.deadline,
                closure: dates.effective_closure(today),
                in_continuity: false,
                eligible: false,
                concurrent: false,
                first_interaction,
                rdv_delay: cep_domain::rdv_delay(
                    region,
                    f.adresse_code_postal.as_deref(),
                    f.date_demande_rdv,
                    first_interaction,
                ),
                verdict: None,
                fiche: f.clone(),
            });
        }
        drop(states);

        // Each person's dossiers: continuity and the concurrent CEP look across operators.
        let mut by_person: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, s) in all.iter().enumerate() {
            by_person.entry(s.person.as_str()).or_default().push(i);
        }
        let mut derived = Vec::with_capacity(all.len());
        for (i, s) in all.iter().enumerate() {
            let others = by_person[s.person.as_str()]
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| &all[j]);
            let continuity = in_continuity(
                s.uo,
                s.engagement(),
                ever_eligible.contains(&s.dossier_id),
                others
                    .clone()
                    .filter(|o| o.uo != WorkUnit::Uo0)
                    .map(|o| o.engagement()),
            );
            let concurrent = others.clone().any(|o| {
                concurrent_cep(
                    s.lot,
                    s.uo,
                    s.engagement(),
                    &OtherDossier {
                        lot: o.lot,
                        uo: o.uo,
                        engagement: o.engagement(),
                        closure: o.closure.map(|c| c.date),
                    },
                )
            });
            derived.push((
                continuity,
                is_eligible(&s.fiche.statut, continuity),
                concurrent,
            ));
        }
        drop(by_person);
        for (s, (continuity, eligible, concurrent)) in all.iter_mut().zip(derived) {
            s.in_continuity = continuity;
            s.eligible = eligible;
            s.concurrent = concurrent;
        }

        decide_billing(conn, &mut all, rules)?;
        Ok(AsOf {
            cutoff,
            rules,
            dossiers: all,
        })
    }

    /// The cut-off's date in Europe/Paris, the date every rule compares with.
    pub fn today(&self) -> NaiveDate {
        paris::date_of(self.cutoff)
    }

    /// Every effectively closed unit with its verdict, in dossier order.
    pub fn units(&self) -> Vec<Unit> {
        self.dossiers
            .iter()
            .filter_map(|d| {
                Some(Unit {
                    numero_dossier: d.numero.clone(),
                    lot: d.lot,
                    uo: d.uo,
                    engagement: d.engagement(),
                    closure: d.closure?,
                    reference_bc: d.fiche.reference_bc.clone(),
                    numero_decompte: d.fiche.numero_decompte.clone(),
                    concurrent: d.concurrent,
                    verdict: d.verdict.clone()?,
                })
            })
            .collect()
    }

    /// Dossiers still open whose latest fiche carries an operator's statement number
    /// (`numero_decompte`): billed before being closed. `(numero_dossier, numero_decompte)`.
    pub fn billed_while_open(&self) -> Vec<(String, String)> {
        self.dossiers
            .iter()
            .filter(|d| d.closure.is_none())
            .filter_map(|d| Some((d.numero.clone(), d.fiche.numero_decompte.clone()?)))
            .collect()
    }
}

/// The verdict of every effectively closed unit (indicators-v1 "Billable closure", points 15
/// and 20; the rule is [`cep_domain::billable`]).
fn decide_billing(
    conn: &mut DbConnection,
    all: &mut [DossierAsOf],
    rules: BillingRules,
) -> Result<(), BillingError> {
    // Consumption references: owned as ingestion recorded it (the first dossier accepted with
    // it, `BC_DUPLICATE` for the others) when that dossier still carries it at the cut-off;
    // otherwise by the first of the dossiers that carry it (smallest id).
    let mut claimants: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in all.iter().enumerate() {
        if let Some(r) = s.fiche.reference_bc.as_deref() {
            claimants.entry(r).or_default().push(i);
        }
    }
    let shared: Vec<String> = claimants
        .iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|(r, _)| (*r).to_owned())
        .collect();
    let recorded: HashMap<String, String> =
        cep_store::models::ingest::reference_owners(conn, &shared)?
            .into_iter()
            .collect();
    let owner: HashMap<&str, i64> = claimants
        .iter()
        .map(|(r, c)| {
            let registered = recorded
                .get(*r)
                .and_then(|n| c.iter().find(|&&i| &all[i].numero == n));
            let first = c
                .iter()
                .min_by_key(|&&i| all[i].dossier_id)
                .expect("a claimant");
            (*r, all[*registered.unwrap_or(first)].dossier_id)
        })
        .collect();

    let quantity: HashMap<PurchaseOrderRef, u32> = PurchaseOrder::all_current(conn)?
        .iter()
        .filter_map(|o| {
            Some((
                o.reference.parse().ok()?,
                u32::try_from(o.quantite).unwrap_or(0),
            ))
        })
        .collect();

    let mut closed: Vec<(usize, ClosedUnit)> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        let Some(closure) = s.closure else { continue };
        closed.push((
            i,
            ClosedUnit {
                numero_dossier: s.numero.clone(),
                lot: s.lot,
                uo: s.uo,
                closure,
                eligible: s.eligible,
                has_deliverable: s.fiche.livrable_sha256.is_some(),
                order: OrderLink::of(s.order(), |o| quantity.contains_key(o), s.lot, s.uo),
                duplicate_reference: s
                    .fiche
                    .reference_bc
                    .as_deref()
                    .is_some_and(|r| owner[r] != s.dossier_id),
                concurrent: s.concurrent,
            },
        ));
    }
    let units: Vec<ClosedUnit> = closed.iter().map(|(_, u)| u.clone()).collect();
    let verdicts = billable::decide(&units, |o| quantity.get(o).copied().unwrap_or(0), rules);
    for ((i, _), verdict) in closed.into_iter().zip(verdicts) {
        all[i].verdict = Some(verdict);
    }
    Ok(())
}
