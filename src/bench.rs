//! `cep bench ingest`: ingestion throughput on a generated `DOSSIERS` file (issue 4); the
//! measurements are `cep_ingest::bench`.

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Fiches in the generated file.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: usize,
    /// PostgreSQL server for the third figure (a database is created and dropped), e.g.
    /// postgres://postgres@127.0.0.1:5432. Default: $CEP_BENCH_POSTGRES_URL; none: skipped.
    #[arg(long, env = "CEP_BENCH_POSTGRES_URL")]
    pub postgres: Option<String>,
    /// Skip the SQLite figure.
    #[arg(long)]
    pub no_sqlite: bool,
    /// Drop the ingestion tables' foreign keys in the scratch PostgreSQL database first: a
    /// measurement of what their per-row checks cost, not a production setting.
    #[arg(long)]
    pub without_foreign_keys: bool,
    /// Working directory (the file, the SQLite database); default: a new temporary one.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

pub(crate) use cep_ingest::bench::peak_rss_mib;
pub(crate) use cep_store::with_scratch_database;

pub fn run(args: &BenchArgs) -> Result<()> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let opts = cep_ingest::bench::BenchOptions {
        lines: args.lines,
        postgres: args.postgres.clone(),
        sqlite: !args.no_sqlite,
        without_foreign_keys: args.without_foreign_keys,
        dir,
        reproduce: format!(
            "cargo run --release -- bench ingest --lines {} --postgres postgres://postgres@127.0.0.1:5432",
            args.lines
        ),
    };
    cep_ingest::bench::run(&opts, &mut |line| println!("{line}")).map_err(|e| anyhow::anyhow!(e))
}
