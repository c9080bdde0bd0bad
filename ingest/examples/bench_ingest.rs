//! The ingestion benchmark without the rest of the service (issue 4): the same figures as
//! `cep bench ingest`, from a build of this crate alone.
//!
//! `cargo run --release -p cep-ingest --example bench_ingest -- [LINES] [POSTGRES_SERVER_URL]`

fn main() {
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
        sqlite: true,
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
