//! What the documents are made of, read from the store once per cut-off: stored indicator runs
//! (the latest of each period known at the cut-off), the dossiers as known at the cut-off with
//! their billing verdicts (billing's one view, [`cep_billing::AsOf`], the same the indicators
//! were computed from), orders, processing reports, complaints, mediation cases, operators,
//! statements, survey answers.

use cep_billing::{AsOf, Unit};
use cep_domain::billable::BillingRules;
use cep_store::DbConnection;
use cep_store::models::buyer::{Operator, PurchaseOrder, StoredStatement};
use cep_store::models::indicators::{
    ComplaintState, IndicatorRun, IndicatorValueRow, MediationCase,
};
use cep_store::models::ingest::ProcessingReportRow;
use chrono::NaiveDateTime;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
    #[error(transparent)]
    Billing(#[from] cep_billing::BillingError),
}

/// Everything the documents of one cut-off read.
#[derive(Debug)]
pub struct Context {
    pub cutoff: NaiveDateTime,
    pub rules: BillingRules,
    /// The run of each period computed at exactly this cut-off (the first one computed, when
    /// there are several: they hold the same values, point 17). A document shows these runs
    /// only, so that the same cut-off always gives the same document.
    pub runs: Vec<IndicatorRun>,
    values: HashMap<i64, Vec<IndicatorValueRow>>,
    /// Every dossier as known at the cut-off.
    pub asof: AsOf,
    /// Its effectively closed units with their verdicts.
    pub units: Vec<Unit>,
    pub orders: Vec<PurchaseOrder>,
    pub reports: Vec<ProcessingReportRow>,
    pub complaints: Vec<ComplaintState>,
    pub cases: Vec<MediationCase>,
    pub operators: Vec<Operator>,
    pub statements: Vec<StoredStatement>,
    pub answers: Vec<(String, chrono::NaiveDate, bool)>,
}

impl Context {
    pub fn load(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
        rules: BillingRules,
    ) -> Result<Context, ContextError> {
        let asof = AsOf::load(conn, cutoff, rules)?;
        Context::with_asof(conn, asof)
    }

    /// The context of a cut-off whose dossier view is already made.
    pub fn with_asof(conn: &mut DbConnection, asof: AsOf) -> Result<Context, ContextError> {
        let (cutoff, rules) = (asof.cutoff, asof.rules);
        let mut all = IndicatorRun::all(conn)?;
        all.sort_by_key(|r| r.id);
        let mut runs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in all {
            if r.cutoff == cutoff && seen.insert(r.period.clone()) {
                runs.push(r);
            }
        }
        let mut values = HashMap::new();
        for r in &runs {
            values.insert(r.id, r.values(conn)?);
        }
        Ok(Context {
            cutoff,
            rules,
            runs,
            values,
            units: asof.units(),
            asof,
            orders: PurchaseOrder::all_current(conn)?,
            reports: ProcessingReportRow::list(conn, None)?
                .into_iter()
                .filter(|r| r.created_at <= cutoff)
                .collect(),
            complaints: ComplaintState::as_of(conn, cutoff)?,
            cases: MediationCase::all(conn)?
                .into_iter()
                .filter(|c| c.opened_at <= cutoff)
                .collect(),
            operators: Operator::all_current(conn)?,
            statements: StoredStatement::all(conn)?,
            answers: cep_billing::bonus::survey_answers(conn)?,
        })
    }

    /// The run of `period` (`2025-10`, `2025-S2`) at the cut-off.
    pub fn run(&self, period: &str) -> Option<&IndicatorRun> {
        self.runs.iter().find(|r| r.period == period)
    }

    /// A value of the run of `period`.
    pub fn value(
        &self,
        period: &str,
        code: &str,
        group: &str,
        category: &str,
    ) -> Option<&IndicatorValueRow> {
        let run = self.run(period)?;
        self.values
            .get(&run.id)?
            .iter()
            .find(|v| v.code == code && v.lot == group && v.category == category)
    }

    /// Every value of the run of `period` for one group.
    pub fn values_of(&self, period: &str, group: &str) -> Vec<&IndicatorValueRow> {
        self.run(period)
            .and_then(|r| self.values.get(&r.id))
            .map(|v| v.iter().filter(|x| x.lot == group).collect())
            .unwrap_or_default()
    }

    /// The operator holding `lot` on `date`.
    pub fn operator(&self, lot: &str, date: chrono::NaiveDate) -> Option<&Operator> {
        self.operators
            .iter()
            .find(|o| o.lot == lot && o.date_debut <= date && o.date_fin.is_none_or(|f| f >= date))
    }
}
