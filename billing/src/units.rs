//! Every effectively closed unit as known at a cut-off, with its billing verdict.

use crate::BillingError;
use cep_domain::billable::{self, BillingRules, ClosedUnit, OrderLink, Verdict};
use cep_domain::deadline::UnitDates;
use cep_domain::ids::{ConsumptionRef, PurchaseOrderRef};
use cep_domain::reference::is_eligible;
use cep_domain::{Closure, Lot, WorkUnit, paris};
use cep_store::DbConnection;
use cep_store::models::buyer::PurchaseOrder;
use cep_store::models::dossiers::FicheSummary;
use cep_store::models::link::national_ids;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::{HashMap, HashSet};

/// An effectively closed unit at the cut-off and what billing makes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub numero_dossier: String,
    pub lot: Lot,
    pub uo: WorkUnit,
    pub engagement: NaiveDate,
    pub closure: Closure,
    /// The consumption reference carried (`reference_bc`), as sent.
    pub reference_bc: Option<String>,
    /// The operator's statement number (`numero_decompte`), as sent.
    pub numero_decompte: Option<String>,
    /// Flagged `CONCURRENT_CEP` at the cut-off (indicators-v1 point 15, feed-format point 24).
    pub concurrent: bool,
    pub verdict: Verdict,
}

struct State {
    dossier_id: i64,
    numero: String,
    lot: Lot,
    uo: WorkUnit,
    operator_person_id: i64,
    statut: String,
    engagement: NaiveDate,
    closure: Option<Closure>,
    reference_bc: Option<String>,
    numero_decompte: Option<String>,
    has_deliverable: bool,
}

/// Every dossier's state at `cutoff` with its effective closure (`None` while open).
fn states_at(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<Vec<State>, BillingError> {
    let today = paris::date_of(cutoff);
    let states = FicheSummary::states_as_of(conn, cutoff)?;
    let engagement_of: HashMap<&str, NaiveDate> = states
        .iter()
        .map(|(d, f)| (d.numero_dossier.as_str(), f.date_engagement))
        .collect();
    let mut all: Vec<State> = Vec::with_capacity(states.len());
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
        all.push(State {
            dossier_id: d.id,
            numero: d.numero_dossier.clone(),
            lot,
            uo,
            operator_person_id: d.operator_person_id,
            statut: f.statut.clone(),
            engagement: f.date_engagement,
            closure: dates.effective_closure(today),
            reference_bc: f.reference_bc.clone(),
            numero_decompte: f.numero_decompte.clone(),
            has_deliverable: f.livrable_sha256.is_some(),
        });
    }
    Ok(all)
}

/// Dossiers still open at `cutoff` whose latest fiche carries an operator's statement number
/// (`numero_decompte`): billed before being closed. `(numero_dossier, numero_decompte)`.
pub fn billed_while_open(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> Result<Vec<(String, String)>, BillingError> {
    Ok(states_at(conn, cutoff)?
        .into_iter()
        .filter(|s| s.closure.is_none())
        .filter_map(|s| Some((s.numero, s.numero_decompte?)))
        .collect())
}

/// Every unit effectively closed at `cutoff` (closures and abandonments decided on the
/// cut-off's date in Europe/Paris), in dossier order, with its verdict. Persons are the national
/// persons of identity resolution.
pub fn units_at(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Vec<Unit>, BillingError> {
    let national = national_ids(conn)?;
    units_with_persons(conn, cutoff, rules, &national)
}

/// [`units_at`] with the person of each operator person given (`operator person id → person`;
/// an operator person missing from the map is a person of its own). Tests compare the answer
/// on linked persons with the answer on the true persons.
pub fn units_with_persons(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
    persons: &HashMap<i64, String>,
) -> Result<Vec<Unit>, BillingError> {
    let all = states_at(conn, cutoff)?;

    // Persons: as given (national ids), else the operator person alone.
    let person = |s: &State| match persons.get(&s.operator_person_id) {
        Some(n) => n.clone(),
        None => format!("op:{}", s.operator_person_id),
    };
    let mut by_person: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in all.iter().enumerate() {
        by_person.entry(person(s)).or_default().push(i);
    }
    let ever_eligible = eligible_before(conn, cutoff)?;

    // Consumption references: owned as ingestion recorded it (the first dossier accepted with
    // it, `BC_DUPLICATE` for the others) when that dossier still carries it at the cut-off;
    // otherwise by the first of the dossiers that carry it (smallest id).
    let mut claimants: HashMap<&str, Vec<&State>> = HashMap::new();
    for s in &all {
        if let Some(r) = s.reference_bc.as_deref() {
            claimants.entry(r).or_default().push(s);
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
                .and_then(|n| c.iter().find(|s| &s.numero == n));
            let first = c.iter().min_by_key(|s| s.dossier_id).expect("a claimant");
            (*r, registered.unwrap_or(first).dossier_id)
        })
        .collect();

    let orders = PurchaseOrder::all_current(conn)?;
    let quantity: HashMap<PurchaseOrderRef, u32> = orders
        .iter()
        .filter_map(|o| {
            Some((
                o.reference.parse().ok()?,
                u32::try_from(o.quantite).unwrap_or(0),
            ))
        })
        .collect();

    let mut closed: Vec<(usize, ClosedUnit, bool)> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        let Some(closure) = s.closure else { continue };
        let others = &by_person[&person(s)];
        // Continuity (indicators-v1 point 10).
        let in_continuity = s.uo == WorkUnit::Uo22
            || ever_eligible.contains(&s.dossier_id)
            || others.iter().any(|&j| {
                let o = &all[j];
                j != i && o.uo != WorkUnit::Uo0 && o.engagement < s.engagement
            });
        // CONCURRENT_CEP: a UO1/UO2 of the same person in another lot, open on this
        // engagement (feed-format point 24).
        let concurrent = s.uo != WorkUnit::Uo0
            && others.iter().any(|&j| {
                let o = &all[j];
                j != i
                    && o.lot != s.lot
                    && o.uo != WorkUnit::Uo0
                    && o.engagement <= s.engagement
                    && o.closure.is_none_or(|c| s.engagement < c.date)
            });
        let order = s
            .reference_bc
            .as_deref()
            .and_then(|r| r.parse::<ConsumptionRef>().ok())
            .map(|c| c.order());
        let unit = ClosedUnit {
            numero_dossier: s.numero.clone(),
            lot: s.lot,
            uo: s.uo,
            closure,
            eligible: is_eligible(&s.statut, in_continuity),
            has_deliverable: s.has_deliverable,
            order: OrderLink::of(order, |o| quantity.contains_key(o), s.lot, s.uo),
            duplicate_reference: s
                .reference_bc
                .as_deref()
                .is_some_and(|r| owner[r] != s.dossier_id),
            concurrent,
        };
        closed.push((i, unit, concurrent));
    }
    let units: Vec<ClosedUnit> = closed.iter().map(|(_, u, _)| u.clone()).collect();
    let verdicts = billable::decide(&units, |o| quantity.get(o).copied().unwrap_or(0), rules);
    Ok(closed
        .into_iter()
        .zip(verdicts)
        .map(|((i, u, concurrent), verdict)| {
            let s = &all[i];
            Unit {
                numero_dossier: u.numero_dossier,
                lot: u.lot,
                uo: u.uo,
                engagement: s.engagement,
                closure: u.closure,
                reference_bc: s.reference_bc.clone(),
                numero_decompte: s.numero_decompte.clone(),
                concurrent,
                verdict,
            }
        })
        .collect())
}

/// Dossiers that had a fiche with an eligible status among those received by `cutoff`.
fn eligible_before(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> Result<HashSet<i64>, BillingError> {
    Ok(cep_store::models::dossiers::dossiers_with_eligible_fiche(
        conn,
        cutoff,
        cep_domain::reference::ELIGIBLE_STATUSES,
    )?
    .into_iter()
    .collect())
}
