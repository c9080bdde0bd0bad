//! A generated national year (`cep synth --seed 1 --months 12 --scale 1.0`) ingested file by
//! file into a fresh store, in the order `cep ingest` uses (lot, then file name): the figure of
//! `cep bench ingest --year` (`cep_ingest::bench::national_year`), from a build of this crate
//! alone (without Polars and Typst).
//!
//! `cargo run --release -p cep-ingest --example national_year -- sqlite|POSTGRES_SERVER_URL|both [SCALE] [MONTHS]`
//! (`both` needs `CEP_BENCH_POSTGRES_URL`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().unwrap_or_else(|| "sqlite".into());
    let scale: f64 = args
        .next()
        .map_or(1.0, |a| a.parse().expect("SCALE is a number"));
    let months: u32 = args
        .next()
        .map_or(12, |a| a.parse().expect("MONTHS is a number"));
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let (sqlite, postgres) = match target.as_str() {
        "sqlite" => (true, None),
        "both" => (true, std::env::var("CEP_BENCH_POSTGRES_URL").ok()),
        url => (false, Some(url.to_owned())),
    };
    let opts = cep_ingest::bench::YearOptions {
        scale,
        months,
        seed: 1,
        postgres,
        sqlite,
        dir: tmp.path().to_path_buf(),
        reproduce: format!(
            "cargo run --release -p cep-ingest --example national_year -- {target} {scale} {months}"
        ),
    };
    if let Err(e) = cep_ingest::bench::national_year(&opts, &mut |l| println!("{l}")) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
