//! `cep`: France compétences' regulation service for the CEP framework agreement.

//! The binary parses the command line, prints, and wires the crates together; every use case
//! lives in a library crate (`cep_app` and below).

mod bench;
mod bill_cmd;
mod compute_cmd;
mod demo;
mod ingest_cmd;
mod link_cmd;
mod order_cmd;
mod report_cmd;
mod serve_cmd;

use anyhow::{Context, Result};
use cep_app::Settings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "cep",
    version,
    about = "CEP regulation service (France compétences)"
)]
struct Cli {
    /// Configuration file (TOML). Default: $CEP_CONFIG, else ./cep.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations (the service also does this on start).
    Migrate,
    /// Print the effective configuration, secrets masked, and where each part came from.
    Config,
    /// Run the demonstration end to end on an embedded SQLite database under DATA_DIR/demo.
    Demo,
    /// Generate a synthetic national dataset: operator feeds, buyer-side inputs, ground truth.
    Synth(SynthArgs),
    /// Receive and process operator feed files (spec feed-format-v1): reports go to the outbox.
    Ingest(ingest_cmd::IngestArgs),
    /// Identity resolution: one national person id behind the operators' beneficiary ids.
    Link(link_cmd::LinkArgs),
    /// Billable units at a cut-off and the consumption of every purchase order (units.csv,
    /// orders.csv), statements of a quarter (--quarter), the quality bonus (--half).
    Bill(bill_cmd::BillArgs),
    /// The CCTP 4.3 indicators of a month (--month) or half-year (--half) at a data cut-off,
    /// stored as a run; --out writes them as CSV, --drill lists the dossiers behind a value.
    Compute(compute_cmd::ComputeArgs),
    /// Committee documents as PDF: --month (follow-up per lot, national summary), --half
    /// (quality reviews), --year (steering and regulation files), --quarter (statements).
    Report(report_cmd::ReportArgs),
    /// Back up the database and the archived raw files into a new folder, with checksums.
    Backup {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup into an empty database (the configured one), then prove every table,
    /// raw file and the audit chain identical to the backup.
    Restore { from: std::path::PathBuf },
    /// Apply the retention limits ([retention]): erase the personal data of persons without
    /// activity since the limit and the raw files received before it.
    Purge {
        /// Act as if it were this time (RFC 3339).
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// The scheduler by hand: `tick` runs the jobs due now (or at --at), `status` lists the runs.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Serve the REST API (buyer analysts, operators, the médiateur, administrators).
    Serve {
        /// Address to listen on (default: [api] bind, 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Accounts of the API's local issuer.
    #[command(subcommand)]
    User(serve_cmd::UserCommand),
    /// The audit log: `cep audit verify` checks its hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The purchase-order registry: list, amend, close (history kept).
    #[command(subcommand)]
    Order(order_cmd::OrderCommand),
    /// Sweep DATA_DIR/inbox/L{ll}/ once: process every settled file, link the new beneficiaries
    /// (unless --no-link), deliver the reports, and remove the files from the inbox.
    Sweep {
        /// Seconds a file must be unchanged before it is taken (uploads in progress wait).
        #[arg(long, default_value_t = 60)]
        settle: u64,
        /// Do not run identity resolution after the files are processed.
        #[arg(long)]
        no_link: bool,
    },
    /// Pull one lot's feed from its operator's endpoint (spec §1), resuming from the saved cursor.
    Pull {
        #[arg(long)]
        lot: cep_domain::Lot,
        /// The operator's base URL (`/cep/v1/dossiers` is appended); default: the lot's
        /// `[[pull]]` in the configuration.
        #[arg(long)]
        url: Option<String>,
        /// The variable holding the bearer token (read from the environment so that it never
        /// shows in a process list); default: the `[[pull]]`'s `token_env`, else CEP_PULL_TOKEN.
        #[arg(long = "token-env", value_name = "VAR")]
        token_env: Option<String>,
    },
    /// Benchmarks that print their figure and the command to reproduce it.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Import a buyer-side CSV file (spec §9).
    Import {
        /// operators | purchase-orders | surveys | mystery-contacts | deliverable-controls | populations
        kind: String,
        file: PathBuf,
        /// No effect (kept for older scripts): overlapping orders are accepted, with a warning.
        #[arg(long, hide = true)]
        allow_overlap: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check that no entry was edited or deleted (exit status 1 when the chain is broken).
    Verify,
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// Run every job due now and not done yet, then send the due e-mails.
    Tick {
        /// Act as if it were this time (RFC 3339), e.g. to catch up a period by hand.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::FixedOffset>>,
    },
    /// The job runs recorded.
    Status,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Ingestion throughput: parse + validate in memory, SQLite, PostgreSQL against bare COPY.
    Ingest(bench::BenchArgs),
    /// Identity resolution: accuracy against the truth and two baselines, time, memory.
    Link(cep_app::bench_link::LinkBenchArgs),
    /// Indicators: one month over millions of dossiers in memory; loading from PostgreSQL.
    Indicators(cep_app::bench_indicators::IndicatorBenchArgs),
}

#[derive(Debug, clap::Args)]
struct SynthArgs {
    /// Output directory (inbox/, buyer/, truth/ are created in it).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First month, AAAA-MM.
    #[arg(long, default_value = "2025-01")]
    start: cep_domain::YearMonth,
    #[arg(long, default_value_t = 12)]
    months: u32,
    /// 1.0 = the real national volume (about 180,000 UO1/UO2 entrants a year).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Comma-separated lots, e.g. 01,05,19 (default: all 19).
    #[arg(long, value_delimiter = ',')]
    lots: Vec<cep_domain::Lot>,
    /// Share of dossiers given an injected anomaly (at least one of each kind).
    #[arg(long, default_value_t = 0.002)]
    anomaly_rate: f64,
}

// mimalloc: ingestion allocates and frees many small strings per line; glibc's allocator
// cost about 10 % of the in-memory parse + validate figure (issue 4).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let (settings, sources) = Settings::load(cli.config.as_deref(), &|k| std::env::var(k).ok())?;
    init_tracing(&settings.log.filter)?;
    let now_or = |at: Option<chrono::DateTime<chrono::FixedOffset>>| {
        at.map(|t| t.naive_utc())
            .unwrap_or_else(cep_store::models::now_utc)
    };
    match cli.command {
        Command::Migrate => {
            let url = settings.database_url()?;
            let store = cep_store::Store::open(&url, 1)
                .with_context(|| format!("opening {}", url.masked()))?;
            let applied = store.migrate()?;
            if applied.is_empty() {
                println!("{}: schema is up to date", url.masked());
            } else {
                println!(
                    "{}: applied {} migration(s): {}",
                    url.masked(),
                    applied.len(),
                    applied.join(", ")
                );
            }
        }
        Command::Config => {
            print!("{}", settings.to_masked_toml());
            println!();
            match &sources.file {
                Some(f) => println!("# file: {}", f.display()),
                None => println!("# file: none (defaults)"),
            }
            if !sources.env.is_empty() {
                println!("# environment: {}", sources.env.join(", "));
            }
        }
        Command::Demo => demo::run(&settings)?,
        Command::Link(a) => link_cmd::run(&open_store(&settings)?, &a)?,
        Command::Order(c) => order_cmd::run(&open_store(&settings)?, &c)?,
        Command::Bill(a) => bill_cmd::run(&open_store(&settings)?, &a, &settings.billing)?,
        Command::Serve { bind } => {
            serve_cmd::serve(&settings, open_store(&settings)?, bind.as_deref())?
        }
        Command::User(c) => serve_cmd::user(&open_store(&settings)?, &c)?,
        Command::Audit(AuditCommand::Verify) => serve_cmd::audit_verify(&open_store(&settings)?)?,
        Command::Compute(a) => compute_cmd::run(&open_store(&settings)?, &a, &settings.billing)?,
        Command::Report(a) => report_cmd::run(&open_store(&settings)?, &a, &settings.billing)?,
        Command::Schedule(ScheduleCommand::Tick { at }) => {
            let runner = cep_app::schedule::Runner::new(open_store(&settings)?, settings.clone())?;
            let now = now_or(at);
            let log = runner.tick(now)?;
            if log.is_empty() {
                println!("nothing due at {now} UTC");
            }
            for line in log {
                println!("{line}");
            }
        }
        Command::Schedule(ScheduleCommand::Status) => {
            let store = open_store(&settings)?;
            for r in cep_store::models::reports::JobRun::all(&mut *store.conn()?)? {
                println!(
                    "{:<12} {:<11} {:<8} started {} UTC  {}",
                    r.job,
                    r.period,
                    r.status,
                    r.started_at.format("%Y-%m-%d %H:%M:%S"),
                    r.detail
                );
            }
        }
        Command::Purge { at } => {
            let store = open_store(&settings)?;
            println!(
                "{}",
                cep_app::retention::purge(&store, &settings, now_or(at))?
            );
        }
        Command::Backup { out } => cep_app::backup::backup(&settings, &out)?,
        Command::Restore { from } => cep_app::backup::restore(&settings, &from)?,
        Command::Bench(BenchCommand::Ingest(a)) => bench::run(&a)?,
        Command::Bench(BenchCommand::Link(a)) => cep_app::bench_link::run(&a)?,
        Command::Bench(BenchCommand::Indicators(a)) => cep_app::bench_indicators::run(&a)?,
        Command::Pull {
            lot,
            url,
            token_env,
        } => {
            let pull = cep_app::receive::pull_settings(&settings, lot, url, token_env)?;
            let ingestor = cep_app::receive::ingestor(open_store(&settings)?, &settings.data_dir);
            let pulled = cep_app::receive::pull(&ingestor, &pull)?;
            for r in &pulled.reports {
                println!("{}", r.summary());
            }
            eprintln!("lot {lot}: {}", pulled.summary());
        }
        Command::Sweep { settle, no_link } => {
            let store = open_store(&settings)?;
            let ingestor = if no_link {
                cep_app::receive::ingestor_without_identity(store, &settings.data_dir)
            } else {
                cep_app::receive::ingestor(store, &settings.data_dir)
            };
            let swept = cep_app::receive::sweep(
                &ingestor,
                &settings,
                std::time::Duration::from_secs(settle),
            )?;
            for r in &swept.reports {
                println!("{}", r.summary());
            }
            for d in &swept.deliverables {
                println!("{}", d.summary());
            }
            for (notice, reads) in &swept.mediator_notices {
                println!(
                    "{reads} médiateur read(s) or case(s) told in {}",
                    notice.display()
                );
            }
            eprintln!(
                "{}: {} file(s) processed, {} deliverable(s), {} waiting; reports in {}",
                swept.inbox.display(),
                swept.reports.len(),
                swept.deliverables.len(),
                swept.waiting,
                ingestor.outbox().display()
            );
        }
        Command::Ingest(a) => {
            let ingestor = cep_app::receive::ingestor(open_store(&settings)?, &settings.data_dir);
            let totals = ingest_cmd::run(&ingestor, &a)?;
            if a.dry_run {
                eprintln!("validation only: {totals}; nothing was kept");
            } else {
                eprintln!("{totals}; reports in {}", ingestor.outbox().display());
            }
        }
        Command::Import {
            kind,
            file,
            allow_overlap: _,
        } => {
            let Some(k) = cep_ingest::buyer::ImportKind::parse(&kind) else {
                anyhow::bail!(
                    "unknown import kind {kind:?}; expected operators, purchase-orders, surveys, mystery-contacts, deliverable-controls or populations"
                );
            };
            let o = cep_ingest::buyer::import(&open_store(&settings)?, k, &file)?;
            println!(
                "{}: {} rows, {} new, {} amended, {} unchanged",
                file.display(),
                o.rows,
                o.new,
                o.amended,
                o.unchanged
            );
            for w in &o.warnings {
                println!("  warning: {w}");
            }
        }
        Command::Synth(a) => {
            let mut config = cep_synth::SynthConfig::new(a.seed, a.start, a.months, a.scale);
            if !a.lots.is_empty() {
                config.lots = a.lots;
            }
            config.anomaly_rate = a.anomaly_rate;
            let started = std::time::Instant::now();
            eprintln!(
                "generating {} month(s) from {} at scale {} into {} …",
                a.months,
                a.start,
                a.scale,
                a.out.display()
            );
            let s = cep_synth::generate(&config, &a.out)?;
            println!(
                "{} persons ({} at several lots), {} operator person ids, {} dossiers, {} fiches, {} files, {} truth anomaly lines in {:.1} s → {}",
                s.persons,
                s.persons_at_several_lots,
                s.operator_persons,
                s.dossiers,
                s.fiches,
                s.files,
                s.injected,
                started.elapsed().as_secs_f64(),
                a.out.display()
            );
        }
    }
    Ok(())
}

fn open_store(settings: &Settings) -> Result<cep_store::Store> {
    Ok(cep_app::open_store(settings)?)
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn init_tracing(filter: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter {filter:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    Ok(())
}
