//! `cep compute`: the CCTP 4.3 indicators of a month or a half-year at a data cut-off, stored
//! as an indicator run, printed as a national table, optionally written as CSV; `--drill`
//! lists the dossiers behind one value; `--run ID` shows a stored run again.

use anyhow::{Context, Result, bail};
use cep_indicators::run::{IndicatorValue, cutoff_text, stored_values};
use cep_indicators::{DrillDown, Part, Period};
use cep_store::Store;
use cep_store::models::indicators::IndicatorRun;
use chrono::NaiveDateTime;
use std::path::PathBuf;

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
    settings: &cep_app::settings::BillingSettings,
) -> Result<()> {
    if let Some(id) = args.run {
        let mut conn = store.conn()?;
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
        print!("{}", cep_app::compute::national_table(&values));
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

    eprintln!("loading the store as of {} …", cutoff_text(cutoff));
    if let Some(code) = &args.drill {
        let lot = args.lot.as_deref().unwrap_or("national");
        let part = if args.denominator {
            Part::Denominator
        } else {
            Part::Numerator
        };
        let value = cep_app::compute::Value {
            code,
            group: lot,
            category: &args.category,
            part,
        };
        match cep_app::compute::drill(store, period, cutoff, rules, value)? {
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
    let c = cep_app::compute::compute(store, period, cutoff, rules)?;
    println!(
        "run {}: {period} at cut-off {}: {} values (loading {:.1} s, computing {:.2} s)",
        c.run.id,
        cutoff_text(cutoff),
        c.values.len(),
        c.loading.as_secs_f64(),
        c.computing.as_secs_f64()
    );
    print!("{}", cep_app::compute::national_table(&c.values));
    write_out(args, period, cutoff, &c.values)
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

/// The API's drill-downs, answered by the application's engine (the API does not build Polars).
#[derive(Debug, Default)]
pub struct Drill(pub cep_app::compute::DrillEngine);

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
        let part = if denominator {
            Part::Denominator
        } else {
            Part::Numerator
        };
        match self.0.drill(store, run, code, group, category, part) {
            Ok(DrillDown::Items(items)) => Ok(cep_api::Drilled::Items(items)),
            Ok(DrillDown::External(what)) => Ok(cep_api::Drilled::External(what.to_owned())),
            Err(e) => Err(e.to_string()),
        }
    }
}
