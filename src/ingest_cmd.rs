//! `cep ingest PATH…` and `cep import KIND FILE`.

use anyhow::{Context, Result, bail};
use cep_domain::Lot;
use cep_ingest::{Channel, Ingestor, ProcessingReport, Status, Submission};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

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
}

/// Counts over a whole `cep ingest` run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub files: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub duplicate: usize,
    pub lines: u64,
    pub quarantined: u64,
    pub warnings: u64,
}

/// Feed files under `paths`, each with its depositing lot, ordered by lot then name (point 12).
pub fn collect(paths: &[PathBuf], lot: Option<Lot>) -> Result<Vec<(Lot, PathBuf)>> {
    let mut files = vec![];
    for p in paths {
        walk(p, &mut files).with_context(|| format!("cannot read {}", p.display()))?;
    }
    let mut out = vec![];
    for f in files {
        let l = match lot.or_else(|| lot_of_path(&f)) {
            Some(l) => l,
            None => bail!(
                "{}: cannot tell the depositing lot; put the file under an L{{ll}} folder or pass --lot",
                f.display()
            ),
        };
        out.push((l, f));
    }
    out.sort_by(|a, b| (a.0, a.1.file_name()).cmp(&(b.0, b.1.file_name())));
    Ok(out)
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "csv") {
                walk(&e, out)?;
            }
        }
    } else {
        std::fs::metadata(p)?;
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// The lot of the nearest `L{ll}` folder in the path.
fn lot_of_path(p: &Path) -> Option<Lot> {
    p.ancestors().skip(1).find_map(|a| {
        let name = a.file_name()?.to_str()?;
        Lot::parse(name.strip_prefix('L')?).ok()
    })
}

pub fn run(ingestor: &Ingestor, args: &IngestArgs) -> Result<Totals> {
    let files = collect(&args.paths, args.lot)?;
    let mut t = Totals::default();
    let n = files.len();
    for (i, (lot, path)) in files.iter().enumerate() {
        let report = ingest_one(ingestor, *lot, path, args.received_at)?;
        t.add(&report);
        if args.json {
            println!("{}", report.to_json());
            eprintln!("[{}/{n}] {}", i + 1, report.summary());
        } else {
            println!("[{}/{n}] {}", i + 1, report.summary());
        }
    }
    Ok(t)
}

/// Receives and processes one file deposited for `lot`, named after its file name.
pub fn ingest_one(
    ingestor: &Ingestor,
    lot: Lot,
    path: &Path,
    received_at: Option<DateTime<Utc>>,
) -> Result<ProcessingReport> {
    let sub = Submission {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        lot,
        channel: Channel::Cli,
        received_at,
        json_kind: None,
    };
    ingestor
        .ingest_file(path, &sub)
        .with_context(|| format!("ingesting {}", path.display()))
}

impl Totals {
    /// Counts one processing report.
    pub fn add(&mut self, report: &ProcessingReport) {
        self.files += 1;
        match report.status {
            Status::Accepted => self.accepted += 1,
            Status::Rejected => self.rejected += 1,
            Status::Duplicate => self.duplicate += 1,
        }
        self.lines += report.lines;
        self.quarantined += report.quarantined;
        self.warnings += report.warnings;
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files ({} accepted, {} rejected, {} duplicate), {} lines, {} quarantined, {} warnings",
            self.files,
            self.accepted,
            self.rejected,
            self.duplicate,
            self.lines,
            self.quarantined,
            self.warnings
        )
    }
}
