//! Receiving and processing one file or body (DESIGN decision 3): the content is archived
//! (content-addressed by SHA-256) and its receipt committed before anything is parsed; then
//! the whole file is checked and applied in one transaction, with its processing report.
//! Killed half-way, the store holds the receipt and nothing else of the file, and the next
//! run processes it again from the start.
//!
//! Every channel (inbox sweep, `cep ingest`, API push, pull) goes through one sequence: receipt
//! → checks → store (one transaction per file) → identity resolution (when the ingestor was
//! made [`Ingestor::with_identity_resolution`], as the service's is) with the concurrent CEP
//! checked again on the persons just linked (point 24, [`crate::identity`]) → processing
//! reports delivered to the outbox.

use crate::anomaly::{Anomaly, AnomalyCode, Severity};
use crate::csv::CsvReader;
use crate::decode::{Sniffed, sniff_counting_lines};
use crate::dossier::{LineContext, OperatorRegistry};
use crate::file_name::{self, FeedKind};
use crate::report::{CaseOpened, MediatorAccess, ProcessingReport, Status};
use crate::source::{self, Item};
use crate::{apply, other_kinds};
use cep_domain::{Lot, WorkUnit};
use cep_store::models::buyer::Operator;
use cep_store::models::ingest::{NewAnomaly, ProcessingReportRow, insert_anomalies};
use cep_store::models::now_utc;
use cep_store::models::receipts::{NewReceipt, Receipt};
use cep_store::{DbConnection, Store, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::Connection;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// How a file or body arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Cli,
    Inbox,
    Api,
    Pull,
}

impl Channel {
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Cli => "cli",
            Channel::Inbox => "inbox",
            Channel::Api => "api",
            Channel::Pull => "pull",
        }
    }
}

/// What is known of a submission besides its content.
#[derive(Debug, Clone)]
pub struct Submission {
    pub file_name: String,
    /// The depositing lot (inbox folder, `--lot`, or the token's lot).
    pub lot: Lot,
    pub channel: Channel,
    /// An administrator's explicit reception time (spec §1); recorded with the receipt.
    pub received_at: Option<DateTime<Utc>>,
    /// For JSON bodies: the record kind of the route (the name is not a feed file name).
    pub json_kind: Option<FeedKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read or archive {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The received content could not be copied into the archive (disk full, read error):
    /// nothing of it is recorded.
    #[error("cannot keep a copy of {file} in the archive; nothing of it was recorded")]
    Receiving {
        file: String,
        source: Box<IngestError>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The files were processed and their reports delivered, but identity resolution after
    /// them failed: it runs again with the next receipt (or `cep link`).
    #[error(
        "{files} file(s) processed and reported, but identity resolution after them failed; it runs again with the next receipt or `cep link`"
    )]
    Identity {
        files: usize,
        source: cep_link::LinkError,
    },
    /// How [`Ingestor::check_bytes`] rolls its transaction back; never returned to callers.
    #[doc(hidden)]
    #[error("a validation-only run rolls back")]
    DryRunRolledBack,
}

impl From<diesel::result::Error> for IngestError {
    fn from(e: diesel::result::Error) -> Self {
        IngestError::Store(StoreError::Transaction(e))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lines per batch: read, checked and written together inside the file's transaction.
pub const BATCH: usize = 5_000;

/// Size limits of point 7: files up to 512 MiB and 2 million lines, JSON bodies up to 32 MiB
/// (their 10,000-record limit is checked with their shape).
pub const MAX_FILE_BYTES: u64 = 512 << 20;
pub const MAX_FILE_LINES: u64 = 2_000_000;
pub const MAX_JSON_BYTES: u64 = 32 << 20;

/// Receives and processes feeds into a store, archiving raw content under `data_dir`.
#[derive(Debug, Clone)]
pub struct Ingestor {
    store: Store,
    archive: PathBuf,
    outbox: PathBuf,
    /// Lines applied since the planner's statistics were last refreshed, and the count at
    /// which they are refreshed next (PostgreSQL; see [`Ingestor::refresh_statistics`]).
    statistics: std::sync::Arc<std::sync::Mutex<(u64, u64)>>,
    /// Identity resolution after each batch of receipts (`None`: the persons stay unlinked
    /// until `cep link`; ingestion's own tests and benchmarks).
    identity: Option<cep_link::Settings>,
    /// The registries, with the version of the buyer-side imports they were read at.
    registry: std::sync::Arc<std::sync::Mutex<Option<VersionedRegistry>>>,
}

/// A file or body received and processed, its report not yet delivered.
#[derive(Debug)]
pub struct Received {
    pub report: ProcessingReport,
    /// The receipt processed now (`None` for a duplicate or a report delivered late).
    pub processed: Option<Receipt>,
    /// Where its content was archived (made durable with the batch).
    pub archived: PathBuf,
}

impl Ingestor {
    /// `data_dir/archive/` holds raw content by SHA-256; `data_dir/outbox/L{ll}/` the reports.
    pub fn new(store: Store, data_dir: &Path) -> Self {
        Ingestor {
            store,
            archive: data_dir.join("archive"),
            outbox: data_dir.join("outbox"),
            statistics: std::sync::Arc::new(std::sync::Mutex::new((0, Self::FIRST_ANALYZE))),
            identity: None,
            registry: Default::default(),
        }
    }

    /// The registries as currently recorded: the ones in memory unless an import of operators
    /// or purchase orders was recorded since they were read.
    fn registry(&self, conn: &mut DbConnection) -> Result<std::sync::Arc<Registry>, IngestError> {
        let version = cep_store::models::buyer::registry_version(conn)?;
        let mut cached = self.registry.lock().expect("registry lock");
        if let Some((v, r)) = cached.as_ref()
            && *v == version
        {
            return Ok(r.clone());
        }
        let r = std::sync::Arc::new(Registry::load(conn)?);
        *cached = Some((version, r.clone()));
        Ok(r)
    }

    /// The same ingestor, resolving identities after each batch of receipts (incremental
    /// `cep link`) before the reports are delivered: what the service runs.
    pub fn with_identity_resolution(mut self, settings: cep_link::Settings) -> Self {
        self.identity = Some(settings);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Lines after which the statistics are first refreshed; each refresh doubles the next.
    const FIRST_ANALYZE: u64 = 20_000;

    /// On PostgreSQL, refreshes the planner's statistics of the ingestion tables once the lines
    /// applied since the last refresh reach a threshold that doubles each time. A store that
    /// grows from empty in one long load otherwise keeps the statistics of its first minutes
    /// and its lookups (`= ANY(…)` on dossiers, persons, consumption references) turn into
    /// sequential scans: a national year loaded 30 times slower (issue 4). Autovacuum takes over
    /// in steady state.
    fn refresh_statistics(
        &self,
        conn: &mut cep_store::DbConnection,
        lines: u64,
    ) -> Result<(), IngestError> {
        let due = {
            let mut s = self.statistics.lock().expect("statistics lock");
            s.0 += lines;
            if s.0 >= s.1 {
                *s = (0, s.1.saturating_mul(2));
                true
            } else {
                false
            }
        };
        if due {
            cep_store::models::ingest::analyze_ingestion_tables(conn)?;
        }
        Ok(())
    }

    pub fn outbox(&self) -> &Path {
        &self.outbox
    }

    /// The daily notice of the médiateur's reads (Annex 2 §3) and cases opened (CCTP 3.7): for
    /// each lot with some not yet reported in a processing report, `outbox/L{ll}/CEP_L{ll}_ACCES_MEDIATEUR_{AAAAMMJJHHMMSS}.json`
    /// listing them; then they count as reported. Returns each notice written and its reads.
    pub fn deliver_mediator_reads(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<MediatorNotice>, IngestError> {
        let mut conn = self.store.conn()?;
        let mut out = vec![];
        for lot in cep_store::models::access::lots_with(&mut conn, TOLD_TO_OPERATOR)? {
            let entries = cep_store::models::access::unreported(&mut conn, TOLD_TO_OPERATOR, &lot)?;
            let Some(last) = entries.last().map(|e| e.id) else {
                continue;
            };
            let (reads, cases) = told(entries);
            let dir = self.outbox.join(format!("L{lot}"));
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let path = dir.join(format!(
                "CEP_L{lot}_ACCES_MEDIATEUR_{}.json",
                now.format("%Y%m%d%H%M%S")
            ));
            let body = serde_json::json!({
                "lot": lot,
                "objet": "consultations de dossiers par le médiateur non encore signalées dans un compte rendu de traitement",
                "mediator_access_requests": reads,
                "mediation_cases_opened": cases,
            });
            let tmp = dir.join(format!(
                ".{}.part",
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
            std::fs::write(
                &tmp,
                serde_json::to_string_pretty(&body).unwrap_or_default() + "\n",
            )
            .map_err(io(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io(&path))?;
            // Written before the cursor moves: a crash in between sends the notice again,
            // never loses a read.
            cep_store::models::access::mark_reported(&mut conn, &lot, last)?;
            out.push(MediatorNotice { path, reads, cases });
        }
        Ok(out)
    }

    /// Receives one deliverable (point 34): checked, archived under `archive/L{ll}/livrables/`,
    /// recorded, its report written to `outbox/L{ll}/livrables/` and returned.
    pub fn receive_deliverable(
        &self,
        lot: Lot,
        file_name: &str,
        content: &[u8],
        channel: Channel,
    ) -> Result<crate::deliverable::DeliverableReport, IngestError> {
        let mut conn = self.store.conn()?;
        crate::deliverable::receive(
            &mut conn,
            &self.archive,
            &self.outbox,
            crate::deliverable::Deposit {
                lot,
                file_name,
                content,
                channel,
                received_at: Utc::now(),
            },
        )
    }

    /// Receives a file and processes it, then delivers its report.
    pub fn ingest_file(
        &self,
        path: &Path,
        sub: &Submission,
    ) -> Result<ProcessingReport, IngestError> {
        let received = self.receive_file(path, sub)?;
        self.complete_one(received)
    }

    /// Receives a body (API push or pull) and processes it, then delivers its report.
    pub fn ingest_bytes(
        &self,
        body: &[u8],
        sub: &Submission,
    ) -> Result<ProcessingReport, IngestError> {
        let received = self.receive_reader(body, Path::new(&sub.file_name), sub)?;
        self.complete_one(received)
    }

    /// Validation only (recette, issue 23.3): every check a receipt would run, on the store as
    /// it is, and the same processing report — then the transaction is rolled back. Nothing is
    /// archived, recorded or delivered; the report's receipt id is not one that exists.
    pub fn check_bytes(
        &self,
        body: &[u8],
        sub: &Submission,
    ) -> Result<ProcessingReport, IngestError> {
        let sha = crate::dossier::hex(&Sha256::digest(body));
        let mut conn = self.store.conn()?;
        // Content already received: a deposit would be a duplicate, and so is the answer.
        if let Some(r) = Receipt::find_by_sha256(&mut conn, &sha)?
            && r.status != "received"
        {
            return Ok(duplicate_report(&r, sub));
        }
        let tmp_dir = self.archive.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(io(&tmp_dir))?;
        let tmp = tmp_dir.join(format!(
            "check-{}-{}.part",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::write(&tmp, body).map_err(io(&tmp))?;
        let mut report = None;
        let outcome = conn.transaction::<(), IngestError, _>(|conn| {
            let lot = sub.lot.to_string();
            let tmp_s = tmp.to_string_lossy();
            let new = new_receipt(&sha, &lot, sub, body.len() as u64, &tmp_s);
            let id = new.insert(conn)?;
            report = Some(self.process(conn, &new.recorded(id), sub)?);
            Err(IngestError::DryRunRolledBack)
        });
        let _ = std::fs::remove_file(&tmp);
        match (outcome, report) {
            (Err(IngestError::DryRunRolledBack), Some(r)) => Ok(r),
            (Err(e), _) => Err(e),
            (Ok(()), _) => unreachable!("a validation-only run always rolls back"),
        }
    }

    /// [`Ingestor::complete`] for one receipt: a failure of identity resolution is logged, not
    /// returned — the report is delivered and the persons are linked with the next receipt.
    fn complete_one(&self, received: Received) -> Result<ProcessingReport, IngestError> {
        let (mut reports, failure) = self.complete(vec![received])?;
        if let Some(e) = failure {
            tracing::error!(error = %crate::pull::error_chain(&e), "identity resolution after a receipt");
        }
        Ok(reports.remove(0))
    }

    /// Receives and processes files in order (point 12), then resolves identities once and
    /// delivers every report. `progress` is told of each file as it is processed.
    pub fn ingest_files(
        &self,
        files: &[(PathBuf, Submission)],
        progress: &mut dyn FnMut(usize, &ProcessingReport),
    ) -> Result<Vec<ProcessingReport>, IngestError> {
        let mut received = Vec::with_capacity(files.len());
        for (i, (path, sub)) in files.iter().enumerate() {
            let r = self.receive_file(path, sub)?;
            progress(i, &r.report);
            received.push(r);
        }
        match self.complete(received)? {
            (reports, None) => Ok(reports),
            (reports, Some(source)) => Err(IngestError::Identity {
                files: reports.len(),
                source,
            }),
        }
    }

    /// Receives a file and processes it; the report is not delivered yet ([`Ingestor::complete`]).
    pub fn receive_file(&self, path: &Path, sub: &Submission) -> Result<Received, IngestError> {
        let file = std::fs::File::open(path).map_err(io(path))?;
        self.receive_reader(file, path, sub)
    }

    /// The end of the pipeline for a batch of receipts: identity resolution when this ingestor
    /// does it and something was accepted, the concurrent CEP checked again on the persons
    /// just linked, then every report written to the outbox. When identity resolution fails,
    /// the reports are still delivered; its error is returned beside them.
    pub fn complete(
        &self,
        mut received: Vec<Received>,
    ) -> Result<(Vec<ProcessingReport>, Option<cep_link::LinkError>), IngestError> {
        let mut identity_failure = None;
        if let Some(settings) = &self.identity
            && received.iter().any(|r| {
                r.processed.is_some()
                    && r.report.accepted > r.report.unchanged
                    && r.report.kind.as_deref() == Some(FeedKind::Dossiers.as_str())
            })
        {
            match cep_link::run::run(&self.store, cep_link::Mode::Incremental, settings) {
                Ok(summary) => {
                    tracing::info!(
                        run = summary.run_id,
                        linked = summary.relinked,
                        "identity resolution after {} receipt(s)",
                        received.len()
                    );
                    let mut conn = self.store.conn()?;
                    for r in &mut received {
                        if let Some(receipt) = &r.processed {
                            crate::identity::recheck_concurrent(&mut conn, receipt, &mut r.report)?;
                        }
                    }
                }
                Err(e) => identity_failure = Some(e),
            }
        }
        let mut reports = Vec::with_capacity(received.len());
        let mut written = Vec::with_capacity(received.len() * 3);
        for r in received {
            written.extend(
                r.report
                    .write_outbox(&self.outbox)
                    .map_err(io(&self.outbox))?,
            );
            written.push(r.archived);
            reports.push(r.report);
        }
        make_durable(&written)?;
        Ok((reports, identity_failure))
    }

    fn receive_reader(
        &self,
        input: impl Read,
        origin: &Path,
        sub: &Submission,
    ) -> Result<Received, IngestError> {
        let (sha, size, archived) = self.archive_content(input, origin)?;
        let mut conn = self.store.conn()?;
        let receipt = match Receipt::find_by_sha256(&mut conn, &sha)? {
            Some(r) if r.status != "received" => {
                // Processed, but its report never reached the outbox (the disk filled up after
                // the commit): the original report is delivered now, in place of a duplicate's.
                if let Some(row) = ProcessingReportRow::of_receipt(&mut conn, r.id)?
                    && let Ok(original) = serde_json::from_str::<ProcessingReport>(&row.report_json)
                    && !original.is_in_outbox(&self.outbox)
                {
                    return Ok(Received {
                        report: original,
                        processed: None,
                        archived,
                    });
                }
                return Ok(Received {
                    report: duplicate_report(&r, sub),
                    processed: None,
                    archived,
                });
            }
            // Received before but never processed (the process stopped): process it now.
            Some(r) => r,
            None => {
                let lot = sub.lot.to_string();
                let archived_s = archived.to_string_lossy();
                let new = new_receipt(&sha, &lot, sub, size, &archived_s);
                let id = new.insert(&mut conn)?;
                new.recorded(id)
            }
        };
        let report =
            conn.transaction::<_, IngestError, _>(|conn| self.process(conn, &receipt, sub))?;
        self.refresh_statistics(&mut conn, report.lines)?;
        Ok(Received {
            report,
            processed: Some(receipt),
            archived,
        })
    }

    /// Copies the content into the archive while hashing it; returns (sha256, size, path).
    fn archive_content(
        &self,
        mut input: impl Read,
        origin: &Path,
    ) -> Result<(String, u64, PathBuf), IngestError> {
        let tmp_dir = self.archive.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(io(&tmp_dir))?;
        let tmp = tmp_dir.join(format!(
            "{}-{}.part",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        let copied = (|| {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(io(&tmp))?);
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1 << 16];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buf).map_err(io(origin))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(io(&tmp))?;
                size += n as u64;
            }
            // Flushed to the disk with the batch (`complete`), before any source leaves the
            // inbox or a push is answered: an fsync per file was a third of a small file's cost.
            out.into_inner().map_err(|e| IngestError::Io {
                path: tmp.clone(),
                source: e.into_error(),
            })?;
            Ok::<_, IngestError>((hasher, size))
        })();
        let (hasher, size) = match copied {
            Ok(c) => c,
            Err(e) => {
                // A partial copy (disk full, read error) is not kept: the source is untouched
                // and the next attempt starts over.
                let _ = std::fs::remove_file(&tmp);
                return Err(IngestError::Receiving {
                    file: origin.display().to_string(),
                    source: Box::new(e),
                });
            }
        };
        let sha = crate::dossier::hex(&hasher.finalize());
        let dir = self.archive.join(&sha[..2]);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let dest = dir.join(&sha);
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        Ok((sha, size, dest))
    }

    /// Checks and applies a received file; runs inside the file's transaction.
    fn process(
        &self,
        conn: &mut DbConnection,
        receipt: &Receipt,
        sub: &Submission,
    ) -> Result<ProcessingReport, IngestError> {
        let received_at = DateTime::<Utc>::from_naive_utc_and_offset(receipt.received_at, Utc);
        let mut run = Run::new(receipt, sub);
        let path = PathBuf::from(&receipt.archive_path);

        let kind = match sub.json_kind {
            Some(k) => Some(k),
            None => match file_name::parse(
                &sub.file_name,
                cep_domain::paris::date_of(receipt.received_at),
            ) {
                Err(reason) => {
                    run.file(AnomalyCode::FileName, Severity::Blocking, reason);
                    None
                }
                Ok(n) if n.lot != sub.lot => {
                    run.file(
                        AnomalyCode::FileName,
                        Severity::Blocking,
                        format!(
                            "le fichier porte le lot {} mais a été déposé pour le lot {}",
                            n.lot, sub.lot
                        ),
                    );
                    None
                }
                Ok(n) => {
                    if name_used_by_other_content(conn, receipt)? {
                        run.file(
                            AnomalyCode::FileName,
                            Severity::Blocking,
                            format!("le nom « {} » a déjà été utilisé pour un autre contenu ; utiliser un nouveau numéro de séquence", sub.file_name),
                        );
                        None
                    } else {
                        Some(n.kind)
                    }
                }
            },
        };
        if let Some(kind) = kind {
            run.kind = Some(kind);
            let ctx = Context {
                lot: sub.lot,
                received_at,
                registry: self.registry(conn)?,
            };
            let limit = if sub.json_kind.is_some() {
                MAX_JSON_BYTES
            } else {
                MAX_FILE_BYTES
            };
            if receipt.size_bytes as u64 > limit {
                run.file(
                    AnomalyCode::FileFormat,
                    Severity::Blocking,
                    format!(
                        "{} octets ; {} Mio au plus (découper l'envoi)",
                        receipt.size_bytes,
                        limit >> 20
                    ),
                );
            } else if sub.json_kind.is_some() {
                let body = std::fs::read(&path).map_err(io(&path))?;
                match source::json_items(&body, kind_columns(kind)) {
                    Err(reason) => run.file(AnomalyCode::FileFormat, Severity::Blocking, reason),
                    Ok((lot, _, _)) if lot != sub.lot.to_string() => run.file(
                        AnomalyCode::FileName,
                        Severity::Blocking,
                        format!(
                            "le corps porte le lot {lot} mais le jeton est celui du lot {}",
                            sub.lot
                        ),
                    ),
                    Ok((_, items, anomalies)) => {
                        for a in anomalies {
                            run.push_file(a);
                        }
                        self.apply_items(conn, &mut run, &ctx, kind, items.into_iter().map(Ok))?;
                    }
                }
            } else {
                let (sniffed, physical_lines) =
                    sniff_counting_lines(std::fs::File::open(&path).map_err(io(&path))?)
                        .map_err(io(&path))?;
                match sniffed {
                    Sniffed::Unreadable(reason) => {
                        run.file(AnomalyCode::FileFormat, Severity::Blocking, reason)
                    }
                    Sniffed::Readable { .. } if physical_lines > MAX_FILE_LINES + 1 => run.file(
                        AnomalyCode::FileFormat,
                        Severity::Blocking,
                        format!(
                            "{physical_lines} lignes ; {MAX_FILE_LINES} lignes au plus après l'en-tête (découper le fichier)"
                        ),
                    ),
                    Sniffed::Readable { encoding, bom } => {
                        if encoding == crate::decode::Encoding::Windows1252 {
                            run.file(
                                AnomalyCode::FileEncoding,
                                Severity::Warning,
                                "le fichier n'est pas en UTF-8 valide ; il a été lu en Windows-1252 : vérifier les accents et enregistrer en UTF-8",
                            );
                        }
                        let file = std::fs::File::open(&path).map_err(io(&path))?;
                        let mut reader = CsvReader::new(BufReader::with_capacity(1 << 16, file));
                        let mut head = crate::csv::Record::default();
                        match reader.read(&mut head).map_err(io(&path))? {
                            None => run.file(
                                AnomalyCode::FileFormat,
                                Severity::Blocking,
                                "fichier vide : la ligne d'en-tête manque",
                            ),
                            Some(Err(e)) => run.file(
                                AnomalyCode::FileFormat,
                                Severity::Blocking,
                                format!("ligne d'en-tête illisible : {}", e.detail_fr()),
                            ),
                            Some(Ok(())) => {
                                let (map, anomalies) =
                                    source::header(&head, encoding, bom, kind_columns(kind));
                                for a in anomalies {
                                    run.push_file(a);
                                }
                                if let Some(map) = map {
                                    let items = source::csv_items(&mut reader, &map, encoding);
                                    let p = path.clone();
                                    self.apply_items(
                                        conn,
                                        &mut run,
                                        &ctx,
                                        kind,
                                        items.map(move |r| r.map_err(io(&p))),
                                    )?;
                                }
                            }
                        }
                    }
                }
            }
            (run.mediator, run.cases_opened) = mediator_requests(conn, sub.lot)?;
        }
        run.finish(conn, receipt)
    }

    fn apply_items(
        &self,
        conn: &mut DbConnection,
        run: &mut Run,
        ctx: &Context,
        kind: FeedKind,
        items: impl Iterator<Item = Result<Item, IngestError>> + Send,
    ) -> Result<(), IngestError> {
        match kind {
            FeedKind::Dossiers => {
                // Reading and the line checks (layers b–e) run one batch ahead on a second
                // thread while this one applies the previous batch to the store; at most two
                // checked batches wait, so memory stays bounded.
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                let line_ctx = ctx.line();
                std::thread::scope(|scope| {
                    scope.spawn(move || {
                        let mut batch = Vec::with_capacity(BATCH);
                        for item in items {
                            match item {
                                Ok(item) => batch.push(item),
                                Err(e) => {
                                    let _ = tx.send(Err(e));
                                    return;
                                }
                            }
                            if batch.len() == BATCH {
                                let checked =
                                    apply::check_lines(std::mem::take(&mut batch), &line_ctx);
                                if tx.send(Ok(checked)).is_err() {
                                    // The store side stopped on an error: nothing more to do.
                                    return;
                                }
                            }
                        }
                        if !batch.is_empty() {
                            let _ = tx.send(Ok(apply::check_lines(batch, &line_ctx)));
                        }
                    });
                    for checked in rx {
                        apply::apply_checked(conn, run, ctx, checked?)?;
                    }
                    Ok::<_, IngestError>(())
                })?;
            }
            FeedKind::Reclamations => {
                for item in items {
                    other_kinds::complaint(conn, run, ctx, item?)?;
                }
            }
            FeedKind::Moyens => {
                for item in items {
                    other_kinds::means(conn, run, ctx, item?)?;
                }
            }
        }
        Ok(())
    }
}

pub fn kind_columns(kind: FeedKind) -> source::Columns<'static> {
    use std::sync::LazyLock;
    static DOSSIERS: LazyLock<(Vec<&'static str>, Vec<&'static str>)> = LazyLock::new(|| {
        (
            crate::dossier::COLUMNS.iter().map(|c| c.name).collect(),
            crate::dossier::required_in_header().collect(),
        )
    });
    match kind {
        FeedKind::Dossiers => source::Columns {
            names: &DOSSIERS.0,
            required: &DOSSIERS.1,
        },
        FeedKind::Reclamations => source::Columns {
            names: &other_kinds::COMPLAINT_COLUMNS,
            required: &other_kinds::COMPLAINT_REQUIRED,
        },
        FeedKind::Moyens => source::Columns {
            names: &other_kinds::MEANS_COLUMNS,
            required: &other_kinds::MEANS_COLUMNS,
        },
    }
}

/// The buyer-side registries every line is checked against: operators and current purchase
/// orders. Kept across files by the ingestor and read again only when an import of either kind
/// has been recorded since (by this process or another: the check is one small query).
#[derive(Debug)]
pub struct Registry {
    pub operators: OperatorRegistry,
    /// Current purchase orders: reference → (lot, UO).
    pub orders: HashMap<String, (String, String)>,
}

impl Registry {
    fn load(conn: &mut DbConnection) -> Result<Registry, IngestError> {
        let mut operators = OperatorRegistry::default();
        for o in Operator::all_current(conn)? {
            if let Ok(l) = Lot::parse(&o.lot) {
                operators.add(l, o.code_operateur, o.date_debut, o.date_fin);
            }
        }
        let orders = cep_store::models::ingest::current_orders(conn)?
            .into_iter()
            .map(|(r, l, u)| (r, (l, u)))
            .collect();
        Ok(Registry { operators, orders })
    }
}

/// The registries and the version of the imports they were read at.
type VersionedRegistry = (i64, std::sync::Arc<Registry>);

/// What every line of one file is checked against.
#[derive(Debug)]
pub struct Context {
    pub lot: Lot,
    pub received_at: DateTime<Utc>,
    pub registry: std::sync::Arc<Registry>,
}

impl Context {
    pub fn line(&self) -> LineContext<'_> {
        LineContext {
            lot: self.lot,
            received_at: self.received_at,
            operators: &self.registry.operators,
        }
    }

    /// The purchase-order check of a consumption reference (§6.2, point 17).
    pub fn order_anomaly(&self, reference: &str, uo: WorkUnit) -> Option<(AnomalyCode, String)> {
        let order = &reference[..reference.len() - 6];
        match self.registry.orders.get(order) {
            None => Some((
                AnomalyCode::BcUnknown,
                format!(
                    "le bon de commande {order} n'existe pas au registre ; l'unité n'est pas facturable tant qu'il n'est pas corrigé"
                ),
            )),
            Some((lot, u)) if *lot != self.lot.to_string() || *u != uo.column_code() => Some((
                AnomalyCode::BcMismatch,
                format!(
                    "le bon de commande {order} est du lot {lot} et de l'UO {u}, la fiche du lot {} et de l'UO {}",
                    self.lot,
                    uo.column_code()
                ),
            )),
            Some(_) => None,
        }
    }
}

/// The state of one file's processing: counts, anomalies, the report.
#[derive(Debug)]
pub struct Run {
    pub receipt_id: i64,
    pub file: String,
    pub lot: Lot,
    pub kind: Option<FeedKind>,
    pub sha256: String,
    pub received_at: NaiveDateTime,
    pub rejected: bool,
    pub lines: u64,
    pub accepted: u64,
    pub unchanged: u64,
    pub quarantined: u64,
    pub warnings: u64,
    pub anomalies: Vec<Anomaly>,
    pub mediator: Vec<MediatorAccess>,
    pub cases_opened: Vec<CaseOpened>,
    /// Anomalies not yet written to the store.
    pending: Vec<NewAnomaly>,
    /// Quarantined lines of the small kinds not yet written: (line, key, raw).
    pub pending_quarantine: Vec<(u64, Option<String>, String)>,
}

impl Run {
    fn new(receipt: &Receipt, sub: &Submission) -> Run {
        Run {
            receipt_id: receipt.id,
            file: sub.file_name.clone(),
            lot: sub.lot,
            kind: sub.json_kind,
            sha256: receipt.sha256.clone(),
            received_at: receipt.received_at,
            rejected: false,
            lines: 0,
            accepted: 0,
            unchanged: 0,
            quarantined: 0,
            warnings: 0,
            anomalies: vec![],
            mediator: vec![],
            cases_opened: vec![],
            pending: vec![],
            pending_quarantine: vec![],
        }
    }

    fn file(&mut self, code: AnomalyCode, severity: Severity, detail: impl AsRef<str>) {
        self.push_file(Anomaly::file(code, severity, detail));
    }

    fn push_file(&mut self, a: Anomaly) {
        if a.severity == Severity::Blocking {
            self.rejected = true;
        }
        self.record(a);
    }

    /// Counts and keeps one anomaly (written to the store at the next flush).
    pub fn record(&mut self, a: Anomaly) {
        if a.severity == Severity::Warning {
            self.warnings += 1;
        }
        self.pending.push(NewAnomaly {
            receipt_id: self.receipt_id,
            line_number: a.line.map(|l| l as i64),
            numero_dossier: a.dossier.clone(),
            column_name: a.column.clone(),
            code: a.code.as_str().to_owned(),
            severity: a.severity.as_str().to_owned(),
            message: a.message.clone(),
        });
        self.anomalies.push(a);
    }

    pub fn flush_anomalies(&mut self, conn: &mut DbConnection) -> Result<(), IngestError> {
        insert_anomalies(conn, &self.pending)?;
        self.pending.clear();
        Ok(())
    }

    fn finish(
        mut self,
        conn: &mut DbConnection,
        receipt: &Receipt,
    ) -> Result<ProcessingReport, IngestError> {
        other_kinds::flush_quarantine(conn, &mut self)?;
        self.flush_anomalies(conn)?;
        let status = if self.rejected {
            Status::Rejected
        } else {
            Status::Accepted
        };
        let report = ProcessingReport {
            file: self.file,
            lot: Some(self.lot.to_string()),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            sha256: self.sha256,
            status,
            received_at: DateTime::<Utc>::from_naive_utc_and_offset(self.received_at, Utc)
                .to_rfc3339(),
            lines: self.lines,
            accepted: self.accepted,
            unchanged: self.unchanged,
            quarantined: self.quarantined,
            warnings: self.warnings,
            anomalies: self.anomalies,
            mediator_access_requests: self.mediator,
            mediation_cases_opened: self.cases_opened,
        };
        let now = now_utc();
        let clamp = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        Receipt::finish(
            conn,
            receipt.id,
            status.as_str(),
            [
                clamp(report.lines),
                clamp(report.accepted),
                clamp(report.quarantined),
                clamp(report.warnings),
            ],
            now,
        )?;
        ProcessingReportRow {
            receipt_id: receipt.id,
            lot: report.lot.clone(),
            file_name: report.file.clone(),
            status: status.as_str().to_owned(),
            report_json: report.to_json(),
            created_at: now,
        }
        .insert(conn)?;
        Ok(report)
    }
}

/// Makes a batch's archived contents and reports durable before any source leaves the inbox or
/// a push is answered: every file and its folder synced, on several threads at once so that the
/// file system commits them together (an fsync per file, one after the other, was a third of a
/// small file's cost). After a power loss before this point, the same content received again is
/// archived again (the archive is written before the receipt is looked up) and its stored
/// report delivered.
fn make_durable(files: &[PathBuf]) -> Result<(), IngestError> {
    let mut paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let folders: std::collections::BTreeSet<&Path> =
        files.iter().filter_map(|f| f.parent()).collect();
    paths.extend(folders);
    let sync = |p: &Path| -> Result<(), IngestError> {
        std::fs::File::open(p)
            .and_then(|f| f.sync_all())
            .map_err(io(p))
    };
    let threads = paths.len().clamp(1, 8);
    let chunk = paths.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().try_for_each(|p| sync(p))))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("a sync does not panic"))
    })
}

fn duplicate_report(original: &Receipt, sub: &Submission) -> ProcessingReport {
    ProcessingReport {
        file: sub.file_name.clone(),
        lot: Some(sub.lot.to_string()),
        kind: original.kind.clone(),
        sha256: original.sha256.clone(),
        status: Status::Duplicate,
        received_at: DateTime::<Utc>::from_naive_utc_and_offset(original.received_at, Utc)
            .to_rfc3339(),
        lines: 0,
        accepted: 0,
        unchanged: 0,
        quarantined: 0,
        warnings: 0,
        anomalies: vec![],
        mediator_access_requests: vec![],
        mediation_cases_opened: vec![],
    }
}

fn name_used_by_other_content(
    conn: &mut DbConnection,
    receipt: &Receipt,
) -> Result<bool, IngestError> {
    use cep_store::schema::receipts::dsl as r;
    use diesel::prelude::*;
    let n: i64 = r::receipts
        .filter(r::file_name.eq(&receipt.file_name))
        .filter(r::lot.eq(&receipt.lot))
        .filter(r::sha256.ne(&receipt.sha256))
        .filter(r::id.lt(receipt.id))
        .count()
        .get_result(conn)
        .map_err(StoreError::query(
            "looking up earlier files of the same name",
        ))?;
    Ok(n > 0)
}

/// The médiateur's reads of this lot's dossiers not yet reported to the operator (Annex 2 §3):
/// the `dossier_access` entries the API writes to the audit log after the lot's cursor, which
/// advances in the file's transaction. Every read reaches the operator once: in the next
/// report, or in the daily notice ([`Ingestor::deliver_mediator_reads`]) when the lot sends
/// nothing.
fn mediator_requests(
    conn: &mut DbConnection,
    lot: Lot,
) -> Result<(Vec<MediatorAccess>, Vec<CaseOpened>), IngestError> {
    let lot = lot.to_string();
    let entries = cep_store::models::access::unreported(conn, TOLD_TO_OPERATOR, &lot)?;
    if let Some(last) = entries.last() {
        cep_store::models::access::mark_reported(conn, &lot, last.id)?;
    }
    Ok(told(entries))
}

/// The audit entries told to an operator, as its report lists them.
fn told(
    entries: Vec<cep_store::models::access::AuditEntry>,
) -> (Vec<MediatorAccess>, Vec<CaseOpened>) {
    let mut reads = vec![];
    let mut cases = vec![];
    for e in entries {
        let date = e.at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        if e.action == CASE_OPENED {
            cases.push(CaseOpened {
                date,
                case: e.target.unwrap_or_default(),
                complaint_reference: e.detail,
            });
        } else {
            reads.push(MediatorAccess {
                date,
                dossier: e.target.unwrap_or_default(),
            });
        }
    }
    (reads, cases)
}

/// A notice written by [`Ingestor::deliver_mediator_reads`] for one lot.
#[derive(Debug, Clone)]
pub struct MediatorNotice {
    pub path: PathBuf,
    pub reads: Vec<MediatorAccess>,
    pub cases: Vec<CaseOpened>,
}

/// The audit action of a mediation case opened (told to the operator, CCTP 3.7).
pub const CASE_OPENED: &str = "case_opened";

/// What the operator is told of: the médiateur's reads and the cases opened.
const TOLD_TO_OPERATOR: &[&str] = &[DOSSIER_ACCESS, CASE_OPENED];

/// The audit action of a médiateur's read of a dossier (reported to the operator).
pub const DOSSIER_ACCESS: &str = "dossier_access";

/// A receipt about to be recorded for `sub`, its content at `archive_path`: received now, or
/// at the reception time the submission gives (an override, recorded as such).
fn new_receipt<'a>(
    sha: &'a str,
    lot: &'a str,
    sub: &'a Submission,
    size: u64,
    archive_path: &'a str,
) -> NewReceipt<'a> {
    NewReceipt {
        sha256: sha,
        lot: Some(lot),
        kind: sub.json_kind.map(FeedKind::as_str),
        channel: sub.channel.as_str(),
        file_name: &sub.file_name,
        size_bytes: size as i64,
        received_at: sub
            .received_at
            .map(|t| cep_store::models::to_micros(t.naive_utc()))
            .unwrap_or_else(now_utc),
        received_at_override: sub.received_at.is_some(),
        archive_path,
        status: "received",
        lines_total: 0,
        lines_accepted: 0,
        lines_quarantined: 0,
        warnings: 0,
    }
}

/// What a sweep does with one entry of a drop folder (point 27).
pub(crate) enum InboxEntry {
    /// Not a file to take: a folder, a hidden file, a name that is not text.
    Skip,
    /// An upload in progress (`*.part`) or changed less than the settle time ago.
    Wait,
    /// Settled: taken, with its name and modification time.
    Take {
        name: String,
        modified: std::time::SystemTime,
    },
}

/// The rule of point 27 for one entry of `inbox/L{ll}/` or `inbox/L{ll}/livrables/`.
pub(crate) fn inbox_entry(
    p: &Path,
    now: std::time::SystemTime,
    settle: std::time::Duration,
) -> Result<InboxEntry, IngestError> {
    let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
        return Ok(InboxEntry::Skip);
    };
    if !p.is_file() || name.starts_with('.') {
        return Ok(InboxEntry::Skip);
    }
    if name.ends_with(".part") {
        return Ok(InboxEntry::Wait);
    }
    let modified = std::fs::metadata(p)
        .and_then(|m| m.modified())
        .map_err(io(p))?;
    if now.duration_since(modified).unwrap_or_default() < settle {
        return Ok(InboxEntry::Wait);
    }
    Ok(InboxEntry::Take { name, modified })
}

/// The outcome of one sweep of the inbox.
#[derive(Debug, Default)]
pub struct Sweep {
    pub reports: Vec<ProcessingReport>,
    /// Files left for a later sweep: still being written (`*.part`) or changed too recently.
    pub waiting: usize,
    /// Deliverables received from `inbox/L{ll}/livrables/` (point 34).
    pub deliverables: Vec<crate::deliverable::DeliverableReport>,
}

impl Ingestor {
    /// Sweeps `inbox/L{ll}/` (spec §1, point 27): every file not named `*.part`, unchanged for
    /// `settle`, is received with channel `inbox` and the lot of its folder, processed, and
    /// removed from the inbox (its content stays in the archive). Files of one lot are taken
    /// by modification time, then name (point 12); identities are resolved once for the sweep,
    /// then the reports delivered. A file whose processing fails for another reason than its
    /// content (the database is away, say) stays for the next sweep.
    pub fn sweep_inbox(
        &self,
        inbox: &Path,
        settle: std::time::Duration,
    ) -> Result<Sweep, IngestError> {
        let mut sweep = Sweep::default();
        let Ok(entries) = std::fs::read_dir(inbox) else {
            return Ok(sweep);
        };
        let mut lots: Vec<(Lot, PathBuf)> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .filter_map(|p| {
                let name = p.file_name()?.to_str()?;
                Some((Lot::of_folder(name)?, p))
            })
            .collect();
        lots.sort();
        let now = std::time::SystemTime::now();
        let mut taken: Vec<(PathBuf, Submission)> = vec![];
        for (lot, dir) in lots {
            let mut files = vec![];
            for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
                let p = e.map_err(io(&dir))?.path();
                match inbox_entry(&p, now, settle)? {
                    InboxEntry::Skip => {}
                    InboxEntry::Wait => sweep.waiting += 1,
                    InboxEntry::Take { name, modified } => files.push((modified, name, p)),
                }
            }
            files.sort();
            for (_, name, path) in files {
                taken.push((
                    path,
                    Submission {
                        file_name: name,
                        lot,
                        channel: Channel::Inbox,
                        received_at: None,
                        json_kind: None,
                    },
                ));
            }
        }
        // Deliverables (point 34) in inbox/L{ll}/livrables/: each received, reported and
        // removed on its own (no identity resolution is involved).
        let (deliverables, waiting) = crate::deliverable::waiting_in(inbox, settle)?;
        sweep.waiting += waiting;
        for (lot, path) in deliverables {
            let content = std::fs::read(&path).map_err(io(&path))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let report = self.receive_deliverable(lot, &name, &content, Channel::Inbox)?;
            std::fs::remove_file(&path).map_err(io(&path))?;
            sweep.deliverables.push(report);
        }
        let mut received = Vec::with_capacity(taken.len());
        for (path, sub) in &taken {
            received.push(self.receive_file(path, sub)?);
        }
        // A file leaves the inbox once its report is delivered: stopped before, it is taken
        // again and its stored report delivered then.
        let (reports, failure) = self.complete(received)?;
        for (path, _) in &taken {
            std::fs::remove_file(path).map_err(io(path))?;
        }
        if let Some(source) = failure {
            return Err(IngestError::Identity {
                files: reports.len(),
                source,
            });
        }
        sweep.reports = reports;
        Ok(sweep)
    }
}
