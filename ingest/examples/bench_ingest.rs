//! The ingestion benchmark without the rest of the service (issue 4): the same figures as
//! `cep bench ingest`, from a build of this crate alone.
//!
//! `cargo run --release -p cep-ingest --example bench_ingest -- [LINES] [POSTGRES_SERVER_URL]`
//! (`CEP_LOG=cep_ingest=debug` logs the time of each stage of each batch;
//! `CEP_BENCH_NO_SQLITE=1` skips the SQLite figure; `CEP_BENCH_WITHOUT_FOREIGN_KEYS=1` drops the
//! ingestion tables' foreign keys in the scratch PostgreSQL database, to measure their cost).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let lines = args
        .next()
        .map(|a| a.parse().expect("LINES is a number"))
        .unwrap_or(1_000_000);
    let postgres = args
        .next()
        .or_else(|| std::env::var("CEP_BENCH_POSTGRES_URL").ok());
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let opts = cep_ingest::bench::BenchOptions {
        lines,
        postgres: postgres.clone(),
        sqlite: std::env::var_os("CEP_BENCH_NO_SQLITE").is_none(),
        without_foreign_keys: std::env::var_os("CEP_BENCH_WITHOUT_FOREIGN_KEYS").is_some(),
        dir: tmp.path().to_path_buf(),
        reproduce: format!(
            "cargo run --release -p cep-ingest --example bench_ingest -- {lines} {}",
            postgres.as_deref().unwrap_or("")
        ),
    };
    if let Err(e) = cep_ingest::bench::run(&opts, &mut |line| println!("{line}")) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
