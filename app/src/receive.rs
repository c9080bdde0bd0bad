//! The service's one receive pipeline. Every channel — the inbox sweep (FTPS drop), `cep ingest`
//! (historical loads), the API push and the daily pull — goes through the same ingestor:
//! receipt → checks → store → identity resolution (incremental, once per batch) with the
//! concurrent CEP checked again on the persons just linked → processing reports delivered
//! ([`cep_ingest::Ingestor::complete`]). The binary gives this ingestor to the API, so a push
//! is processed exactly as a dropped file.

use crate::settings::{PullSettings, Settings};
use crate::{Context, Result, bail};
use cep_domain::Lot;
use cep_ingest::{Channel, Ingestor, ProcessingReport, Status, Submission};
use cep_store::Store;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// The ingestor the service runs, archiving under `data_dir` (`archive/`, `outbox/`):
/// identity resolution after each batch of receipts.
pub fn ingestor(store: Store, data_dir: &Path) -> Ingestor {
    Ingestor::new(store, data_dir).with_identity_resolution(cep_link::Settings::default())
}

/// The ingestor without identity resolution (`cep sweep --no-link`): persons stay unlinked until
/// the next `cep link` or receipt.
pub fn ingestor_without_identity(store: Store, data_dir: &Path) -> Ingestor {
    Ingestor::new(store, data_dir)
}

/// What one sweep of the inbox did.
#[derive(Debug)]
pub struct Swept {
    pub inbox: PathBuf,
    pub reports: Vec<ProcessingReport>,
    /// Files left for a later sweep (uploads in progress, or changed too recently).
    pub waiting: usize,
    /// Deliverables received from `inbox/L{ll}/livrables/` (feed spec point 34).
    pub deliverables: Vec<cep_ingest::deliverable::DeliverableReport>,
    /// Notices of the médiateur's reads and cases opened that no processing report carried
    /// (Annex 2 §3, CCTP 3.7), one per lot, with the number of entries in each.
    pub mediator_notices: Vec<(PathBuf, usize)>,
}

/// Sweeps `{data_dir}/inbox/L{ll}/`: every file unchanged for `settle` is received, processed,
/// and removed from the inbox once its report is delivered (spec §1, point 27). Then the
/// médiateur's reads that no report carried are delivered as a notice per lot, so that every
/// read reaches its operator even on a day it sends nothing after the read.
pub fn sweep(
    ingestor: &Ingestor,
    settings: &Settings,
    settle: std::time::Duration,
) -> Result<Swept> {
    let inbox = settings.data_dir.join("inbox");
    let s = ingestor
        .sweep_inbox(&inbox, settle)
        .with_context(|| format!("sweeping {}", inbox.display()))?;
    let notices = ingestor
        .deliver_mediator_reads(Utc::now())
        .context("delivering the médiateur's reads")?;
    Ok(Swept {
        inbox,
        reports: s.reports,
        waiting: s.waiting,
        deliverables: s.deliverables,
        mediator_notices: notices
            .into_iter()
            .map(|n| (n.path, n.reads.len() + n.cases.len()))
            .collect(),
    })
}

/// The pull of one lot: `url` and `token_env` override the lot's `[[pull]]` (whose token is read
/// from the environment when the pull runs, never from the file).
pub fn pull_settings(
    settings: &Settings,
    lot: Lot,
    url: Option<String>,
    token_env: Option<String>,
) -> Result<PullSettings> {
    let configured = settings.pulls.iter().find(|p| p.lot().ok() == Some(lot));
    let mut pull = match (url, configured) {
        (Some(url), p) => PullSettings::new(
            lot,
            url,
            p.map_or("CEP_PULL_TOKEN", |p| p.token_env.as_str()),
        ),
        (None, Some(p)) => p.clone(),
        (None, None) => {
            bail!("give --url, or configure a [[pull]] for lot {lot} (see `cep config`)")
        }
    };
    if let Some(var) = token_env {
        pull.token_env = var;
    }
    Ok(pull)
}

/// What a pull did.
#[derive(Debug)]
pub struct Pulled {
    pub lot: Lot,
    pub reports: Vec<ProcessingReport>,
    /// The lot's saved cursor after the pull.
    pub cursor: Option<String>,
}

impl Pulled {
    /// One line: pages, lines, accepted, quarantined, cursor (the lot is said by the caller).
    pub fn summary(&self) -> String {
        let lines: u64 = self.reports.iter().map(|r| r.lines).sum();
        let accepted: u64 = self.reports.iter().map(|r| r.accepted).sum();
        let quarantined: u64 = self.reports.iter().map(|r| r.quarantined).sum();
        format!(
            "{} page(s), {lines} line(s): {accepted} accepted, {quarantined} quarantined; cursor {}",
            self.reports.len(),
            self.cursor.as_deref().unwrap_or("unset")
        )
    }
}

/// Pulls one lot's feed from its operator's endpoint, resuming from the saved cursor; each page
/// is one receipt through the pipeline.
pub fn pull(ingestor: &Ingestor, pull: &PullSettings) -> Result<Pulled> {
    let config = pull.config(&|k| std::env::var(k).ok())?;
    let reports = cep_ingest::pull::pull(ingestor, &config)?;
    Ok(Pulled {
        lot: config.lot,
        reports,
        cursor: cep_ingest::pull::cursor(ingestor, config.lot)?,
    })
}

/// Counts over a batch of receipts.
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

    pub fn of(reports: &[ProcessingReport]) -> Totals {
        let mut t = Totals::default();
        for r in reports {
            t.add(r);
        }
        t
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

/// Feed files under `paths` (files, or folders searched recursively for `*.csv`), each with its
/// depositing lot (`lot`, else the nearest `L{ll}` folder), ordered by lot then name (point 12).
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
        Lot::of_folder(name)
    })
}

/// Validation only (recette): each of `files` checked as a receipt would be, with the same
/// report, and nothing kept ([`Ingestor::check_bytes`]).
pub fn check_files(
    ingestor: &Ingestor,
    files: &[(Lot, PathBuf)],
    received_at: Option<DateTime<Utc>>,
    progress: &mut dyn FnMut(usize, &ProcessingReport),
) -> Result<Vec<ProcessingReport>> {
    let mut reports = Vec::with_capacity(files.len());
    for (i, (lot, path)) in files.iter().enumerate() {
        let body =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report = ingestor.check_bytes(&body, &cli_submission(*lot, path, received_at))?;
        progress(i, &report);
        reports.push(report);
    }
    Ok(reports)
}

/// Receives and processes `files` (from [`collect`]) in order, identities resolved once at the
/// end; `progress` is told of each file as it is processed (its index and report).
pub fn files(
    ingestor: &Ingestor,
    files: &[(Lot, PathBuf)],
    received_at: Option<DateTime<Utc>>,
    progress: &mut dyn FnMut(usize, &ProcessingReport),
) -> Result<Vec<ProcessingReport>> {
    let subs: Vec<(PathBuf, Submission)> = files
        .iter()
        .map(|(lot, path)| (path.clone(), cli_submission(*lot, path, received_at)))
        .collect();
    Ok(ingestor.ingest_files(&subs, progress)?)
}

/// A file given on the command line, deposited by `lot`.
fn cli_submission(lot: Lot, path: &Path, received_at: Option<DateTime<Utc>>) -> Submission {
    Submission {
        file_name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        lot,
        channel: Channel::Cli,
        received_at,
        json_kind: None,
    }
}
