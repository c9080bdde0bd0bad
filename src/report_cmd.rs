//! `cep report`: the committee documents of a month, half-year or year, or the statements of a
//! quarter, as PDF (`cep_app::publish`). The indicator runs they show are computed and stored
//! first when the store has none for a period at this cut-off (point 17: the same cut-off gives
//! the same figures). By hand, documents are stored and written, not mailed.

use anyhow::{Result, bail};
use cep_reports::{Period, Renderer};
use cep_store::Store;
use std::path::PathBuf;
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

pub fn run(
    store: &Store,
    args: &ReportArgs,
    settings: &cep_app::settings::BillingSettings,
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
    let published = cep_app::publish::publish(
        store,
        &renderer,
        settings,
        cep_app::publish::Request {
            period,
            lot: args.lot,
            cutoff,
            recipients: &[],
            folder: Some(&args.out),
        },
        cep_store::models::now_utc(),
    )?;
    let paths = published.files;
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
