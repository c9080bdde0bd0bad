//! `cep report`: the committee documents of a month, half-year or year, or the statements of a
//! quarter, as PDF. The indicator runs they show are computed and stored first when the store
//! has none for a period at this cut-off (point 17: the same cut-off gives the same figures).

use anyhow::{Result, bail};
use cep_indicators::{Period as IndicatorPeriod, Prepared};
use cep_reports::{Context, Period, Renderer};
use cep_store::Store;
use cep_store::models::indicators::IndicatorRun;
use chrono::NaiveDateTime;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("period").required(true).args(["month", "half", "year", "quarter"])))]
pub struct ReportArgs {
    /// Monthly follow-up reports per lot and the national summary (AAAA-MM).
    #[arg(long)]
    pub month: Option<cep_domain::YearMonth>,
    /// Half-yearly quality reviews per lot (AAAA-S1 or AAAA-S2).
    #[arg(long)]
    pub half: Option<cep_domain::HalfYear>,
    /// Yearly steering-committee files per lot and the regulation-committee file (AAAA).
    #[arg(long)]
    pub year: Option<i32>,
    /// The consumption statements issued for this quarter (AAAA-Tq), as PDF.
    #[arg(long)]
    pub quarter: Option<cep_domain::Quarter>,
    /// Data cut-off (RFC 3339); default: now.
    #[arg(long)]
    pub cutoff: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Only this lot's documents (01…19; no national document).
    #[arg(long)]
    pub lot: Option<cep_domain::Lot>,
    /// Folder for the PDF files (created if needed).
    #[arg(long)]
    pub out: PathBuf,
}

/// The indicator periods a document period shows: its own and those it compares with.
fn periods_shown(period: Period) -> Vec<IndicatorPeriod> {
    match period {
        Period::Month(m) => [0, -1, -2, -12]
            .into_iter()
            .map(|k| IndicatorPeriod::Month(m.plus(k)))
            .collect(),
        Period::Half(h) => vec![IndicatorPeriod::Half(h)],
        Period::Year(y) => (1..=12)
            .filter_map(|m| cep_domain::YearMonth::new(y, m))
            .map(IndicatorPeriod::Month)
            .chain(
                (1..=2)
                    .filter_map(|h| cep_domain::HalfYear::new(y, h))
                    .map(IndicatorPeriod::Half),
            )
            .collect(),
        Period::Quarter(_) => vec![],
    }
}

/// Computes and stores the runs the documents need: the document's own period at this cut-off
/// unless a run with this exact cut-off exists, and the compared periods when no run of theirs
/// is known at the cut-off. Periods that start after the cut-off are left out.
pub fn ensure_runs(
    store: &Store,
    period: Period,
    cutoff: NaiveDateTime,
    rules: cep_domain::billable::BillingRules,
) -> Result<Vec<i64>> {
    let mut conn = store.conn()?;
    let runs = IndicatorRun::all(&mut conn)?;
    let today = cep_domain::paris::date_of(cutoff);
    let wanted: Vec<IndicatorPeriod> = periods_shown(period)
        .into_iter()
        .enumerate()
        .filter(|(_, p)| p.first_day() <= today)
        .filter(|(i, p)| {
            let name = p.to_string();
            let own = *i == 0 && !matches!(period, Period::Year(_));
            if own {
                !runs.iter().any(|r| r.period == name && r.cutoff == cutoff)
            } else {
                !runs.iter().any(|r| r.period == name && r.cutoff <= cutoff)
            }
        })
        .map(|(_, p)| p)
        .collect();
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let inputs = cep_indicators::load::load(&mut conn, cutoff, rules)?;
    let prepared = Prepared::new(&inputs)?;
    let mut stored = Vec::new();
    for p in wanted {
        let values = prepared.compute(p)?;
        stored.push(cep_indicators::store_run(&mut conn, p, cutoff, rules, &values)?.id);
    }
    Ok(stored)
}

/// Writes the documents of `period` into `out` and stores them; returns their paths.
pub fn write(
    store: &Store,
    renderer: &Renderer,
    period: Period,
    lot: Option<cep_domain::Lot>,
    cutoff: NaiveDateTime,
    settings: &crate::config::BillingSettings,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let rules = settings.rules();
    ensure_runs(store, period, cutoff, rules)?;
    let ctx = Context::load(&mut *store.conn()?, cutoff, rules)?;
    let docs = cep_reports::documents(&ctx, period, lot, &settings.scheme()?)?;
    // Stored too (downloadable from the API); by hand, nothing is mailed.
    let published = cep_reports::publish::publish(
        store,
        renderer,
        &docs,
        cutoff,
        &[],
        cep_store::models::now_utc(),
        Some(out),
    )?;
    Ok(published.files)
}

pub fn run(
    store: &Store,
    args: &ReportArgs,
    settings: &crate::config::BillingSettings,
) -> Result<()> {
    let period = match (args.month, args.half, args.year, args.quarter) {
        (Some(m), ..) => Period::Month(m),
        (_, Some(h), ..) => Period::Half(h),
        (_, _, Some(y), _) => Period::Year(y),
        (_, _, _, Some(q)) => Period::Quarter(q),
        _ => bail!("give --month, --half, --year or --quarter"),
    };
    let cutoff = match args.cutoff {
        Some(t) => t.naive_utc(),
        None => cep_store::models::now_utc(),
    };
    let t = Instant::now();
    let renderer = Renderer::new();
    let paths = write(
        store, &renderer, period, args.lot, cutoff, settings, &args.out,
    )?;
    if paths.is_empty() {
        println!(
            "no document for this period (for --quarter: no statement issued; run cep bill --quarter first)"
        );
    }
    for p in &paths {
        println!("{}", p.display());
    }
    eprintln!(
        "{} document(s) in {} ({:.1} s)",
        paths.len(),
        args.out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
