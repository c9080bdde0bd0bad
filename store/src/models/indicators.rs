//! What the indicators read besides the dossiers (complaints, means, buyer-side rows, mediation
//! cases), and the indicator runs they write (indicators-v1 point 17: a stored run keeps the
//! values it was computed with).

use crate::schema::{
    complaints, deliverable_controls, indicator_runs, indicator_values, means, mediation_cases,
    mystery_contacts, reference_populations, survey_answers,
};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::HashMap;

use super::buyer::{DeliverableControl, MysteryContact, ReferencePopulation, SurveyAnswer};

macro_rules! all_current {
    ($row:ident, $table:ident, $what:literal) => {
        impl $row {
            /// The current rows (buyer-side data are used as currently recorded,
            /// indicators-v1 point 17), in id order.
            pub fn all_current(conn: &mut DbConnection) -> Result<Vec<$row>> {
                $table::table
                    .filter($table::superseded_at.is_null())
                    .order($table::id)
                    .select($row::as_select())
                    .load(conn)
                    .map_err(StoreError::query(concat!("reading ", $what)))
            }
        }
    };
}

all_current!(MysteryContact, mystery_contacts, "mystery contacts");
all_current!(SurveyAnswer, survey_answers, "survey answers");
all_current!(
    DeliverableControl,
    deliverable_controls,
    "deliverable controls"
);
all_current!(
    ReferencePopulation,
    reference_populations,
    "reference populations"
);

/// A complaint (`RECLAMATIONS`) in its latest version received by a cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = complaints)]
pub struct ComplaintState {
    pub lot: String,
    pub identifiant_reclamation: String,
    pub horodatage_utc: NaiveDateTime,
    pub numero_dossier: Option<String>,
    pub identifiant_beneficiaire: String,
    pub date_reception: NaiveDate,
    pub motif_reclamation: String,
    pub date_accuse_reception: Option<NaiveDate>,
    pub date_reponse: Option<NaiveDate>,
}

impl ComplaintState {
    /// Every complaint as known at `cutoff`: for each (lot, `identifiant_reclamation`), its
    /// latest version by `horodatage` among those received by the cut-off.
    pub fn as_of(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<Vec<ComplaintState>> {
        let rows: Vec<ComplaintState> = complaints::table
            .filter(complaints::received_at.le(cutoff))
            .order((complaints::lot, complaints::identifiant_reclamation))
            .select(ComplaintState::as_select())
            .load(conn)
            .map_err(StoreError::query("reading complaints"))?;
        Ok(latest_by(rows, |c| {
            (
                (c.lot.clone(), c.identifiant_reclamation.clone()),
                c.horodatage_utc,
            )
        }))
    }
}

/// A lot's means for a half-year (`MOYENS`), in its latest version received by a cut-off:
/// the FTE per work unit in hundredths.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = means)]
pub struct MeansState {
    pub lot: String,
    pub periode: String,
    pub horodatage_utc: NaiveDateTime,
    pub etp_uo0_hundredths: i64,
    pub etp_uo1_hundredths: i64,
    pub etp_uo21_hundredths: i64,
    pub etp_uo22_hundredths: i64,
}

impl MeansState {
    /// Every (lot, half-year)'s latest `MOYENS` line received by `cutoff` (point 16).
    pub fn as_of(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<Vec<MeansState>> {
        let rows: Vec<MeansState> = means::table
            .filter(means::received_at.le(cutoff))
            .order((means::lot, means::periode))
            .select(MeansState::as_select())
            .load(conn)
            .map_err(StoreError::query("reading means"))?;
        Ok(latest_by(rows, |m| {
            ((m.lot.clone(), m.periode.clone()), m.horodatage_utc)
        }))
    }
}

/// Keeps, for each key, the row of the greatest instant (the first of equals), in key order.
fn latest_by<T, K: Ord + std::hash::Hash + Clone>(
    rows: Vec<T>,
    key: impl Fn(&T) -> (K, NaiveDateTime),
) -> Vec<T> {
    let mut best: HashMap<K, (NaiveDateTime, usize)> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let (k, at) = key(r);
        match best.get(&k) {
            Some((b, _)) if *b >= at => {}
            _ => {
                best.insert(k, (at, i));
            }
        }
    }
    let mut keep: Vec<(K, usize)> = best.into_iter().map(|(k, (_, i))| (k, i)).collect();
    keep.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rows: Vec<Option<T>> = rows.into_iter().map(Some).collect();
    keep.into_iter()
        .filter_map(|(_, i)| rows[i].take())
        .collect()
}

/// A mediation case (*saisine du médiateur*): opened for a complaint, naming a dossier or an
/// operator person of a lot.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = mediation_cases)]
pub struct MediationCase {
    pub id: i64,
    pub lot: String,
    pub numero_dossier: Option<String>,
    pub identifiant_beneficiaire: Option<String>,
    pub complaint_reference: String,
    pub mediator: String,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// A mediation case to open.
#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = mediation_cases)]
pub struct NewMediationCase {
    pub lot: String,
    pub numero_dossier: Option<String>,
    pub identifiant_beneficiaire: Option<String>,
    pub complaint_reference: String,
    pub mediator: String,
    pub opened_at: NaiveDateTime,
}

impl NewMediationCase {
    /// Opens the case; returns its id.
    pub fn open(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, mediation_cases::table, mediation_cases::id, self)
            .map_err(StoreError::query("opening a mediation case"))
    }
}

impl MediationCase {
    /// Every case opened by `cutoff`, in opening order (point 17: filtered by opening date).
    pub fn opened_by(conn: &mut DbConnection, cutoff: NaiveDateTime) -> Result<Vec<Self>> {
        mediation_cases::table
            .filter(mediation_cases::opened_at.le(cutoff))
            .order((mediation_cases::opened_at, mediation_cases::id))
            .select(MediationCase::as_select())
            .load(conn)
            .map_err(StoreError::query("reading mediation cases"))
    }
}

/// A stored indicator run: one period computed at one data cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = indicator_runs)]
pub struct IndicatorRun {
    pub id: i64,
    pub period: String,
    pub cutoff: NaiveDateTime,
    pub computed_at: NaiveDateTime,
    pub code_version: String,
    pub rules_json: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = indicator_runs)]
struct NewIndicatorRun<'a> {
    period: &'a str,
    cutoff: NaiveDateTime,
    computed_at: NaiveDateTime,
    code_version: &'a str,
    rules_json: &'a str,
}

/// One stored value of a run (indicators-v1 "Output rows").
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = indicator_values)]
pub struct IndicatorValueRow {
    pub run_id: i64,
    pub code: String,
    pub lot: String,
    pub category: String,
    pub numerator: i64,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub median: Option<f64>,
    pub mean: Option<f64>,
    pub wilson_lower: Option<f64>,
}

/// Rows per multi-row insert (SQLite allows 32,766 bound values; ten per row).
const VALUES_CHUNK: usize = 1000;

impl IndicatorRun {
    /// Stores a run and its values in one transaction; returns the run. The values' `run_id`
    /// is set here.
    pub fn store(
        conn: &mut DbConnection,
        period: &str,
        cutoff: NaiveDateTime,
        computed_at: NaiveDateTime,
        code_version: &str,
        rules_json: &str,
        values: &[IndicatorValueRow],
    ) -> Result<IndicatorRun> {
        conn.transaction(|conn| {
            let id = insert_returning_id!(
                conn,
                indicator_runs::table,
                indicator_runs::id,
                NewIndicatorRun {
                    period,
                    cutoff,
                    computed_at,
                    code_version,
                    rules_json,
                }
            )
            .map_err(StoreError::query("storing an indicator run"))?;
            for chunk in values.chunks(VALUES_CHUNK) {
                let rows: Vec<IndicatorValueRow> = chunk
                    .iter()
                    .map(|v| IndicatorValueRow {
                        run_id: id,
                        ..v.clone()
                    })
                    .collect();
                crate::on_backend!(conn, |c| diesel::insert_into(indicator_values::table)
                    .values(&rows)
                    .execute(c))
                .map_err(StoreError::query("storing indicator values"))?;
            }
            IndicatorRun::get(conn, id)?
                .ok_or_else(|| StoreError::Invalid(format!("indicator run {id} vanished")))
        })
    }

    pub fn get(conn: &mut DbConnection, id: i64) -> Result<Option<IndicatorRun>> {
        indicator_runs::table
            .find(id)
            .select(IndicatorRun::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading an indicator run"))
    }

    /// Every run, latest first.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<IndicatorRun>> {
        indicator_runs::table
            .order(indicator_runs::id.desc())
            .select(IndicatorRun::as_select())
            .load(conn)
            .map_err(StoreError::query("reading indicator runs"))
    }

    /// The run's values, by code, lot and category.
    pub fn values(&self, conn: &mut DbConnection) -> Result<Vec<IndicatorValueRow>> {
        indicator_values::table
            .filter(indicator_values::run_id.eq(self.id))
            .order((
                indicator_values::code,
                indicator_values::lot,
                indicator_values::category,
            ))
            .select(IndicatorValueRow::as_select())
            .load(conn)
            .map_err(StoreError::query("reading indicator values"))
    }
}
