//! `cep ingest PATH…`: feed files received through the service's pipeline
//! (`cep_app::receive`), one summary line per file.

use anyhow::Result;
use cep_app::receive::Totals;
use cep_domain::Lot;
use cep_ingest::Ingestor;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Feed files, or folders searched recursively (`*.csv`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The depositing lot; default: taken from an `L{ll}` folder in each file's path.
    #[arg(long)]
    pub lot: Option<Lot>,
    /// Print each file's processing report as one JSON line on standard output.
    #[arg(long)]
    pub json: bool,
    /// Explicit reception time for historical loads (RFC 3339), recorded with the receipt.
    #[arg(long, value_name = "TIMESTAMP")]
    pub received_at: Option<DateTime<Utc>>,
    /// Validation only (recette): every check and the same report, nothing kept (no receipt,
    /// no archive, nothing in the outbox).
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(ingestor: &Ingestor, args: &IngestArgs) -> Result<Totals> {
    let files = cep_app::receive::collect(&args.paths, args.lot)?;
    let n = files.len();
    let run = if args.dry_run {
        cep_app::receive::check_files
    } else {
        cep_app::receive::files
    };
    let reports = run(ingestor, &files, args.received_at, &mut |i, r| {
        if args.json {
            println!("{}", r.to_json());
            eprintln!("[{}/{n}] {}", i + 1, r.summary());
        } else {
            println!("[{}/{n}] {}", i + 1, r.summary());
        }
    })?;
    Ok(Totals::of(&reports))
}
