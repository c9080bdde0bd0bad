//! An indicator run: the values of one period at one data cut-off, computed, stored, read back
//! and written as CSV (indicators-v1 "Output rows").

use crate::IndicatorError;
use crate::compute::{self, DrillDown, Part, Period};
use crate::frames::Frames;
use crate::inputs::Inputs;
use crate::reference::Reference;
use cep_billing::bonus::{Z95, wilson_lower};
use cep_domain::billable::BillingRules;
use cep_domain::paris;
use cep_store::DbConnection;
use cep_store::models::indicators::{IndicatorRun, IndicatorValueRow};
use chrono::NaiveDateTime;
use polars::prelude::*;
use std::io::Write;

/// The code version recorded with each run.
pub const CODE_VERSION: &str = concat!("cep ", env!("CARGO_PKG_VERSION"), " / indicators-v1");

/// One value of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorValue {
    pub code: String,
    /// `01`…`19`, a region `01`…`18` for 2.x and 3, or `national`.
    pub lot: String,
    /// Empty unless 2.3 (`categorie_sociale`), 2.4 (`statut`), 8.2 (`type_service`).
    pub category: String,
    pub numerator: i64,
    pub denominator: Option<f64>,
    pub value: Option<f64>,
    pub median: Option<f64>,
    pub mean: Option<f64>,
    pub wilson_lower: Option<f64>,
}

/// The data of a period at a cut-off, ready to compute and drill down.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub frames: Frames,
    pub reference: Reference,
}

impl Prepared {
    pub fn new(inputs: &Inputs) -> Result<Prepared, IndicatorError> {
        Ok(Prepared {
            frames: Frames::new(inputs)?,
            reference: Reference::new(inputs),
        })
    }

    /// Every indicator of `period`.
    pub fn compute(&self, period: Period) -> Result<Vec<IndicatorValue>, IndicatorError> {
        let df = compute::compute(&self.frames, &self.reference, period)?;
        values_of(&df)
    }

    pub fn drill_down(
        &self,
        period: Period,
        code: &str,
        lot: &str,
        category: &str,
        part: Part,
    ) -> Result<DrillDown, IndicatorError> {
        compute::drill_down(
            &self.frames,
            &self.reference,
            period,
            code,
            lot,
            category,
            part,
        )
    }
}

fn values_of(df: &DataFrame) -> Result<Vec<IndicatorValue>, IndicatorError> {
    let s = |c: &str| -> Result<Vec<String>, IndicatorError> {
        Ok(df
            .column(c)?
            .str()?
            .iter()
            .map(|v| v.unwrap_or("").to_owned())
            .collect())
    };
    let f = |c: &str| -> Result<Vec<Option<f64>>, IndicatorError> {
        Ok(df
            .column(c)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .collect())
    };
    let code = s("code")?;
    let lot = s("lot")?;
    let category = s("category")?;
    let numerator: Vec<Option<i64>> = df
        .column("numerator")?
        .cast(&DataType::Int64)?
        .i64()?
        .iter()
        .collect();
    let (den, val, med, mean) = (f("denominator")?, f("value")?, f("median")?, f("mean")?);
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let numerator = numerator[i].unwrap_or(0);
        let wilson = (code[i] == "8.1")
            .then(|| {
                let n = den[i]? as u64;
                wilson_lower(numerator as u64, n, Z95)
            })
            .flatten();
        out.push(IndicatorValue {
            code: code[i].clone(),
            lot: lot[i].clone(),
            category: category[i].clone(),
            numerator,
            denominator: den[i],
            value: val[i],
            median: med[i],
            mean: mean[i],
            wilson_lower: wilson,
        });
    }
    out.sort_by(|a, b| {
        (order_of(&a.code), &a.lot, &a.category).cmp(&(order_of(&b.code), &b.lot, &b.category))
    });
    Ok(out)
}

/// Report order of a code (1.1 … 8.7).
fn order_of(code: &str) -> usize {
    cep_domain::indicator::CATALOGUE
        .iter()
        .position(|i| i.code == code)
        .unwrap_or(usize::MAX)
}

/// Loads the store as of `cutoff` and computes `period`.
pub fn compute_at(
    conn: &mut DbConnection,
    period: Period,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Vec<IndicatorValue>, IndicatorError> {
    let inputs = crate::load::load(conn, cutoff, rules)?;
    Prepared::new(&inputs)?.compute(period)
}

/// Stores a run (period, cut-off, computation time, code version, billing rules, values).
pub fn store_run(
    conn: &mut DbConnection,
    period: Period,
    cutoff: NaiveDateTime,
    rules: BillingRules,
    values: &[IndicatorValue],
) -> Result<IndicatorRun, IndicatorError> {
    let rows: Vec<IndicatorValueRow> = values
        .iter()
        .map(|v| IndicatorValueRow {
            run_id: 0,
            code: v.code.clone(),
            lot: v.lot.clone(),
            category: v.category.clone(),
            numerator: v.numerator,
            denominator: v.denominator,
            value: v.value,
            median: v.median,
            mean: v.mean,
            wilson_lower: v.wilson_lower,
        })
        .collect();
    let rules_json = serde_json::json!({
        "bill_abandonments": rules.bill_abandonments,
        "hold_concurrent": rules.hold_concurrent,
    })
    .to_string();
    Ok(IndicatorRun::store(
        conn,
        &period.to_string(),
        cutoff,
        cep_store::models::now_utc(),
        CODE_VERSION,
        &rules_json,
        &rows,
    )?)
}

/// A stored run's values.
pub fn stored_values(
    conn: &mut DbConnection,
    run: &IndicatorRun,
) -> Result<Vec<IndicatorValue>, IndicatorError> {
    let mut values: Vec<IndicatorValue> = run
        .values(conn)?
        .into_iter()
        .map(|r| IndicatorValue {
            code: r.code,
            lot: r.lot,
            category: r.category,
            numerator: r.numerator,
            denominator: r.denominator,
            value: r.value,
            median: r.median,
            mean: r.mean,
            wilson_lower: r.wilson_lower,
        })
        .collect();
    values.sort_by(|a, b| {
        (order_of(&a.code), &a.lot, &a.category).cmp(&(order_of(&b.code), &b.lot, &b.category))
    });
    Ok(values)
}

/// The cut-off as ISO 8601 with its Europe/Paris offset.
pub fn cutoff_text(cutoff: NaiveDateTime) -> String {
    let hours = paris::offset_hours(cutoff);
    let local = cutoff + chrono::Duration::hours(hours);
    format!("{}+{:02}:00", local.format("%Y-%m-%dT%H:%M:%S"), hours)
}

/// `x` rounded half-up to 6 decimals, without trailing zeros (`0.5`, `12`, `0.333333`).
pub fn round6(x: f64) -> String {
    // Half-up on the decimal expansion: f64 ratios of integers are within an ulp of the exact
    // value, so the 7th decimal decides except on exact ties, which `+ 0.5` resolves upwards.
    let scaled = (x * 1e6 * (1.0 + 1e-15 * x.signum())).abs();
    let rounded = (scaled + 0.5).floor() * x.signum();
    let s = format!("{:.6}", rounded / 1e6);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// Writes values as CSV (`;`, UTF-8 with BOM, the spec's column names).
pub fn write_csv(
    out: &mut impl Write,
    period: Period,
    cutoff: NaiveDateTime,
    values: &[IndicatorValue],
) -> std::io::Result<()> {
    let opt = |v: Option<f64>| v.map(round6).unwrap_or_default();
    out.write_all("\u{feff}".as_bytes())?;
    writeln!(
        out,
        "code;lot;period;cutoff;category;numerator;denominator;value;median;mean;wilson_lower"
    )?;
    let cutoff = cutoff_text(cutoff);
    for v in values {
        writeln!(
            out,
            "{};{};{period};{cutoff};{};{};{};{};{};{};{}",
            v.code,
            v.lot,
            v.category,
            v.numerator,
            opt(v.denominator),
            opt(v.value),
            opt(v.median),
            opt(v.mean),
            opt(v.wilson_lower),
        )?;
    }
    Ok(())
}

/// The billing rules a stored run was computed with.
pub fn rules_of(run: &IndicatorRun) -> BillingRules {
    let v: serde_json::Value = serde_json::from_str(&run.rules_json).unwrap_or_default();
    BillingRules {
        bill_abandonments: v["bill_abandonments"].as_bool().unwrap_or(false),
        hold_concurrent: v["hold_concurrent"].as_bool().unwrap_or(false),
    }
}

/// The data behind a stored run, loaded again as of its cut-off with its rules (point 17: the
/// same cut-off gives the same data), ready to drill down into its period.
pub fn prepare_run(
    conn: &mut DbConnection,
    run: &IndicatorRun,
) -> Result<(Period, Prepared), IndicatorError> {
    let period: Period = run.period.parse().map_err(|e| {
        IndicatorError::Input(format!("run {} has period {:?}: {e}", run.id, run.period))
    })?;
    let inputs = crate::load::load(conn, run.cutoff, rules_of(run))?;
    Ok((period, Prepared::new(&inputs)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_round_half_up_to_six_decimals() {
        // indicators-v1 point 18.
        assert_eq!(round6(1.0 / 3.0), "0.333333");
        assert_eq!(round6(2.0 / 3.0), "0.666667");
        assert_eq!(round6(0.0000005), "0.000001");
        assert_eq!(round6(0.5), "0.5");
        assert_eq!(round6(12.0), "12");
        assert_eq!(round6(-0.25), "-0.25");
        assert_eq!(round6(0.0), "0");
        assert_eq!(round6(1.0 / 8.0 / 1000.0), "0.000125");
    }
}
