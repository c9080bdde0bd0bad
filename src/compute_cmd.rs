//! `cep compute`: the CCTP 4.3 indicators of a month or a half-year at a data cut-off, stored
//! as an indicator run, printed as a national table, optionally written as CSV; `--drill`
//! lists the dossiers behind one value; `--run ID` shows a stored run again.

use anyhow::{Context, Result, bail};
use cep_indicators::run::{IndicatorValue, cutoff_text, round6, stored_values};
use cep_indicators::{DrillDown, Part, Period, Prepared};
use cep_store::Store;
use cep_store::models::indicators::IndicatorRun;
use chrono::NaiveDateTime;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct ComputeArgs {
    /// Month of the monthly indicators 1.1–6.8 (AAAA-MM, e.g. 2025-10).
    #[arg(long, conflicts_with_all = ["half", "run"])]
    pub month: Option<cep_domain::YearMonth>,
    /// Half-year of the half-yearly indicators 7.1–8.7 (AAAA-S1 or AAAA-S2).
    #[arg(long, conflicts_with = "run")]
    pub half: Option<cep_domain::HalfYear>,
    /// Data cut-off (RFC 3339, e.g. 2025-11-05T00:00:00+01:00); default: now.
    #[arg(long)]
    pub cutoff: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Show a stored run again (its id, from a previous `cep compute`) instead of computing.
    #[arg(long)]
    pub run: Option<i64>,
    /// Also write the values as CSV (`;`, UTF-8 with BOM).
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// List the dossiers behind one value instead of storing a run: the indicator code.
    #[arg(long, value_name = "CODE", requires = "lot")]
    pub drill: Option<String>,
    /// With --drill: the lot (01…19), the region for 2.x and 3, or `national`.
    #[arg(long)]
    pub lot: Option<String>,
    /// With --drill: the category (2.3, 2.4, 8.2).
    #[arg(long, default_value = "")]
    pub category: String,
    /// With --drill: list the denominator's dossiers instead of the numerator's.
    #[arg(long)]
    pub denominator: bool,
    /// Bill abandonments (4.x, 5.x, 7.x; default from the configuration).
    #[arg(long)]
    pub bill_abandonments: bool,
    /// Hold units flagged CONCURRENT_CEP back (default from the configuration).
    #[arg(long)]
    pub hold_concurrent: bool,
}

pub fn run(
    store: &Store,
    args: &ComputeArgs,
    settings: &crate::config::BillingSettings,
) -> Result<()> {
    let mut conn = store.conn()?;
    if let Some(id) = args.run {
        let run =
            IndicatorRun::get(&mut conn, id)?.with_context(|| format!("no indicator run {id}"))?;
        let period: Period = run
            .period
            .parse()
            .with_context(|| format!("run {id} has period {:?}", run.period))?;
        let values = stored_values(&mut conn, &run)?;
        println!(
            "run {id}: {period} at cut-off {}, computed {} UTC by {}",
            cutoff_text(run.cutoff),
            run.computed_at.format("%Y-%m-%d %H:%M:%S"),
            run.code_version
        );
        print_national(&values);
        return write_out(args, period, run.cutoff, &values);
    }
    let period = match (args.month, args.half) {
        (Some(m), None) => Period::Month(m),
        (None, Some(h)) => Period::Half(h),
        _ => bail!("give --month AAAA-MM or --half AAAA-Sn (or --run ID)"),
    };
    let cutoff = match args.cutoff {
        Some(t) => t.naive_utc(),
        None => cep_store::models::now_utc(),
    };
    let mut rules = settings.rules();
    rules.bill_abandonments |= args.bill_abandonments;
    rules.hold_concurrent |= args.hold_concurrent;

    let started = Instant::now();
    eprintln!("loading the store as of {} …", cutoff_text(cutoff));
    let inputs = cep_indicators::load::load(&mut conn, cutoff, rules)?;
    let loaded = started.elapsed();
    let prepared = Prepared::new(&inputs)?;
    drop(inputs);

    if let Some(code) = &args.drill {
        let lot = args.lot.as_deref().unwrap_or("national");
        let part = if args.denominator {
            Part::Denominator
        } else {
            Part::Numerator
        };
        match prepared.drill_down(period, code, lot, &args.category, part)? {
            DrillDown::Items(items) => {
                eprintln!(
                    "{code} {lot} {period} {}: {} item(s)",
                    if args.denominator {
                        "denominator"
                    } else {
                        "numerator"
                    },
                    items.len()
                );
                for i in items {
                    println!("{i}");
                }
            }
            DrillDown::External(what) => {
                println!("{code}'s denominator is not counted from dossiers: it is {what}.")
            }
        }
        return Ok(());
    }

    let t = Instant::now();
    let values = prepared.compute(period)?;
    let computed = t.elapsed();
    let run = cep_indicators::store_run(&mut conn, period, cutoff, rules, &values)?;
    println!(
        "run {}: {period} at cut-off {}: {} values (loading {:.1} s, computing {:.2} s)",
        run.id,
        cutoff_text(cutoff),
        values.len(),
        loaded.as_secs_f64(),
        computed.as_secs_f64()
    );
    print_national(&values);
    write_out(args, period, cutoff, &values)
}

fn write_out(
    args: &ComputeArgs,
    period: Period,
    cutoff: NaiveDateTime,
    values: &[IndicatorValue],
) -> Result<()> {
    if let Some(path) = &args.out {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        cep_indicators::write_csv(&mut f, period, cutoff, values)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("values written to {}", path.display());
    }
    Ok(())
}

/// The national value of every indicator without a category, one line each.
pub fn print_national(values: &[IndicatorValue]) {
    let opt = |v: Option<f64>| v.map(round6).unwrap_or_else(|| "–".to_owned());
    println!(
        "   {:<5} {:>10} {:>12} {:>12} {:>10}",
        "code", "numerator", "denominator", "value", "median"
    );
    for v in values
        .iter()
        .filter(|v| v.lot == "national" && v.category.is_empty())
    {
        println!(
            "   {:<5} {:>10} {:>12} {:>12} {:>10}",
            v.code,
            v.numerator,
            opt(v.denominator),
            opt(v.value),
            opt(v.median.or(v.wilson_lower))
        );
    }
}

/// The drill-down engine `cep serve` gives the API: a stored run's data loaded again as of its
/// cut-off (the latest run drilled into is kept in memory, so that paging through one list or
/// drilling into several values of one run loads the store once).
#[derive(Debug, Default)]
pub struct Drill(std::sync::Mutex<Option<(i64, PreparedRun)>>);

/// A run's period and its data, loaded again.
type PreparedRun = std::sync::Arc<(Period, Prepared)>;

impl Drill {
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
}

impl cep_api::DrillDowns for Drill {
    fn drill(
        &self,
        store: &Store,
        run: &IndicatorRun,
        code: &str,
        group: &str,
        category: &str,
        denominator: bool,
    ) -> std::result::Result<cep_api::Drilled, String> {
        let p = self.prepared(store, run).map_err(|e| {
            tracing::error!(error = %e, run = run.id, "preparing a drill-down");
            format!("run {} could not be loaded again", run.id)
        })?;
        let (period, prepared) = (&p.0, &p.1);
        let part = if denominator {
            Part::Denominator
        } else {
            Part::Numerator
        };
        match prepared.drill_down(*period, code, group, category, part) {
            Ok(DrillDown::Items(items)) => Ok(cep_api::Drilled::Items(items)),
            Ok(DrillDown::External(what)) => Ok(cep_api::Drilled::External(what.to_owned())),
            Err(e @ cep_indicators::IndicatorError::Unknown(_)) => Err(e.to_string()),
            Err(e) => {
                tracing::error!(error = %e, run = run.id, code, group, "drill-down");
                Err(format!(
                    "the drill-down of {code} failed; see the server log"
                ))
            }
        }
    }
}
