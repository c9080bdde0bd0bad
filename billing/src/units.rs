//! Every effectively closed unit as known at a cut-off, with its billing verdict: the closed
//! dossiers of [`crate::asof::AsOf`].

use crate::BillingError;
use crate::asof::AsOf;
use cep_domain::billable::{BillingRules, Verdict};
use cep_domain::{Closure, Lot, WorkUnit};
use cep_store::DbConnection;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::HashMap;

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

/// Dossiers still open at `cutoff` whose latest fiche carries an operator's statement number
/// (`numero_decompte`): billed before being closed. `(numero_dossier, numero_decompte)`.
pub fn billed_while_open(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
) -> Result<Vec<(String, String)>, BillingError> {
    Ok(AsOf::load(conn, cutoff, BillingRules::default())?.billed_while_open())
}

/// Every unit effectively closed at `cutoff` (closures and abandonments decided on the
/// cut-off's date in Europe/Paris), in dossier order, with its verdict. Persons are the national
/// persons of identity resolution.
pub fn units_at(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Vec<Unit>, BillingError> {
    Ok(AsOf::load(conn, cutoff, rules)?.units())
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
    Ok(AsOf::with_persons(conn, cutoff, rules, persons)?.units())
}
