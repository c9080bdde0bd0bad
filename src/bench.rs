//! `cep bench ingest`: ingestion throughput on a generated `DOSSIERS` file (issue 4), or with
//! `--year` the generated national year ingested file by file (issue 19); the measurements are
//! `cep_ingest::bench`.

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
    /// Instead: the generated national year (`cep synth --seed 1 --months 12 --scale SCALE`)
    /// ingested file by file into SQLite and (with --postgres) PostgreSQL.
    #[arg(long)]
    pub year: bool,
    /// With --year: the generator's scale (1.0: the real national volume).
    #[arg(long, default_value_t = 1.0, requires = "year")]
    pub scale: f64,
}

pub fn run(args: &BenchArgs) -> Result<()> {
    let tmp;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    if args.year {
        let opts = cep_ingest::bench::YearOptions {
            scale: args.scale,
            months: 12,
            seed: 1,
            postgres: args.postgres.clone(),
            sqlite: !args.no_sqlite,
            dir,
            reproduce: format!(
                "cargo run --release -- bench ingest --year --scale {} --postgres postgres://postgres@127.0.0.1:5432",
                args.scale
            ),
        };
        return cep_ingest::bench::national_year(&opts, &mut |line| println!("{line}"))
            .map_err(|e| anyhow::anyhow!(e));
    }
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
