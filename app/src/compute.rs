//! Indicator runs: computed from one view of a cut-off and stored (point 17: the same cut-off
//! gives the same figures), the runs a document needs, and the drill-down engine the API is
//! given (the API does not build Polars).

use crate::Result;
use cep_billing::AsOf;
use cep_domain::billable::BillingRules;
use cep_indicators::run::IndicatorValue;
use cep_indicators::{DrillDown, Part, Period, Prepared};
use cep_store::Store;
use cep_store::models::indicators::IndicatorRun;
use chrono::NaiveDateTime;
use std::time::{Duration, Instant};

/// A run computed and stored.
#[derive(Debug)]
pub struct Computed {
    pub run: IndicatorRun,
    pub values: Vec<IndicatorValue>,
    pub loading: Duration,
    pub computing: Duration,
}

/// The indicators of `period` as of `cutoff`, computed and stored as a run.
pub fn compute(
    store: &Store,
    period: Period,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Computed> {
    Ok(compute_all(store, &[period], cutoff, rules)?.remove(0))
}

/// The indicators of several periods as of one cut-off, the store read once, each stored as
/// a run.
pub fn compute_all(
    store: &Store,
    periods: &[Period],
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Vec<Computed>> {
    let mut conn = store.conn()?;
    let t = Instant::now();
    let inputs = cep_indicators::load::load(&mut conn, cutoff, rules)?;
    let loading = t.elapsed();
    let prepared = Prepared::new(&inputs)?;
    drop(inputs);
    let mut out = Vec::with_capacity(periods.len());
    for &period in periods {
        let t = Instant::now();
        let values = prepared.compute(period)?;
        let computing = t.elapsed();
        let run = cep_indicators::store_run(&mut conn, period, cutoff, rules, &values)?;
        out.push(Computed {
            run,
            values,
            loading,
            computing,
        });
    }
    Ok(out)
}

/// One value of an indicator: its code, group (lot, region or `national`), category and part.
#[derive(Debug, Clone, Copy)]
pub struct Value<'a> {
    pub code: &'a str,
    pub group: &'a str,
    pub category: &'a str,
    pub part: Part,
}

/// The items behind one value of `period` as of `cutoff` (not stored).
pub fn drill(
    store: &Store,
    period: Period,
    cutoff: NaiveDateTime,
    rules: BillingRules,
    value: Value<'_>,
) -> Result<DrillDown> {
    let mut conn = store.conn()?;
    let inputs = cep_indicators::load::load(&mut conn, cutoff, rules)?;
    let prepared = Prepared::new(&inputs)?;
    Ok(prepared.drill_down(period, value.code, value.group, value.category, value.part)?)
}

/// The indicator periods a document period shows: its own and those it compares with.
pub fn periods_shown(period: cep_reports::Period) -> Vec<Period> {
    use cep_reports::Period as P;
    match period {
        P::Month(m) => [0, -1, -2, -12]
            .into_iter()
            .map(|k| Period::Month(m.plus(k)))
            .collect(),
        P::Half(h) => vec![Period::Half(h)],
        P::Year(y) => (1..=12)
            .filter_map(|m| cep_domain::YearMonth::new(y, m))
            .map(Period::Month)
            .chain(
                (1..=2)
                    .filter_map(|h| cep_domain::HalfYear::new(y, h))
                    .map(Period::Half),
            )
            .collect(),
        P::Quarter(_) => vec![],
    }
}

/// Computes and stores the runs the documents of `period` need, from the view of the cut-off
/// the documents are made from: every period a document shows (its own and those it compares
/// with) that has no run at exactly this cut-off — a document reads the runs of its own cut-off
/// only (issue 22). Periods that start after the cut-off are left out. Returns the runs stored.
pub fn ensure_runs(store: &Store, period: cep_reports::Period, asof: &AsOf) -> Result<Vec<i64>> {
    let mut conn = store.conn()?;
    let cutoff = asof.cutoff;
    let runs = IndicatorRun::all(&mut conn)?;
    let today = asof.today();
    let wanted: Vec<Period> = periods_shown(period)
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.first_day() <= today)
        .filter(|(_, p)| {
            let name = p.to_string();
            !runs.iter().any(|r| r.period == name && r.cutoff == cutoff)
        })
        .map(|(_, p)| p)
        .collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let inputs = cep_indicators::load::load_from(&mut conn, asof)?;
    let prepared = Prepared::new(&inputs)?;
    let mut stored = Vec::new();
    for p in wanted {
        let values = prepared.compute(p)?;
        stored.push(cep_indicators::store_run(&mut conn, p, cutoff, asof.rules, &values)?.id);
    }
    Ok(stored)
}

/// The drill-down engine `cep serve` gives the API: a stored run's data loaded again as of its
/// cut-off (the latest run drilled into is kept in memory, so that paging through one list or
/// drilling into several values of one run loads the store once).
#[derive(Debug, Default)]
pub struct DrillEngine(std::sync::Mutex<Option<(i64, PreparedRun)>>);

/// A run's period and its data, loaded again.
type PreparedRun = std::sync::Arc<(Period, Prepared)>;

/// Why a drill-down gave no list.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// The client's mistake (an unknown code, a group not in the run): said as is.
    #[error("{0}")]
    Request(String),
    /// The engine's failure: logged, the client told to look at the server log.
    #[error("{0}")]
    Failed(String),
}

impl DrillEngine {
    fn prepared(&self, store: &Store, run: &IndicatorRun) -> Result<PreparedRun> {
        if let Some((id, p)) = self.0.lock().expect("drill lock").as_ref()
            && *id == run.id
        {
            return Ok(p.clone());
        }
        let mut conn = store.conn()?;
        let p = std::sync::Arc::new(cep_indicators::run::prepare_run(&mut conn, run)?);
        *self.0.lock().expect("drill lock") = Some((run.id, p.clone()));
        Ok(p)
    }

    /// The items behind one value of a stored run, recomputed as of its cut-off.
    pub fn drill(
        &self,
        store: &Store,
        run: &IndicatorRun,
        code: &str,
        group: &str,
        category: &str,
        part: Part,
    ) -> std::result::Result<DrillDown, DrillError> {
        let p = self.prepared(store, run).map_err(|e| {
            tracing::error!(error = %e, run = run.id, "preparing a drill-down");
            DrillError::Failed(format!("run {} could not be loaded again", run.id))
        })?;
        match p.1.drill_down(p.0, code, group, category, part) {
            Ok(d) => Ok(d),
            Err(e @ cep_indicators::IndicatorError::Unknown(_)) => {
                Err(DrillError::Request(e.to_string()))
            }
            Err(e) => {
                tracing::error!(error = %e, run = run.id, code, group, "drill-down");
                Err(DrillError::Failed(format!(
                    "the drill-down of {code} failed; see the server log"
                )))
            }
        }
    }
}

/// The national value of every indicator without a category, one line each (for the terminal).
pub fn national_table(values: &[IndicatorValue]) -> String {
    use std::fmt::Write;
    let opt = |v: Option<f64>| {
        v.map(cep_indicators::run::round6)
            .unwrap_or_else(|| "–".to_owned())
    };
    let mut out = format!(
        "   {:<5} {:>10} {:>12} {:>12} {:>10}\n",
        "code", "numerator", "denominator", "value", "median"
    );
    for v in values
        .iter()
        .filter(|v| v.lot == "national" && v.category.is_empty())
    {
        let _ = writeln!(
            out,
            "   {:<5} {:>10} {:>12} {:>12} {:>10}",
            v.code,
            v.numerator,
            opt(v.denominator),
            opt(v.value),
            opt(v.median.or(v.wilson_lower))
        );
    }
    out
}
