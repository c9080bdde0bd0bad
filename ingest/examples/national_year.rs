//! A generated national year (`cep synth --seed 1 --months 12 --scale 1.0`) ingested file by
//! file into a fresh store, in the order `cep ingest` uses (lot, then file name): the real mix
//! of new dossiers and updates, many files, anomalies. Builds without Polars and Typst.
//!
//! `cargo run --release -p cep-ingest --example national_year -- sqlite|POSTGRES_SERVER_URL [SCALE] [MONTHS]`

use cep_domain::Lot;
use cep_ingest::buyer::{ImportKind, import};
use cep_ingest::{Channel, Ingestor, Submission};
use cep_store::{DatabaseUrl, Store};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The feed files under `inbox/L{ll}/`, ordered by lot then name.
fn feed_files(inbox: &Path) -> Result<Vec<(Lot, PathBuf)>> {
    let mut out = vec![];
    for dir in std::fs::read_dir(inbox)? {
        let dir = dir?.path();
        let Some(lot) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('L'))
            .and_then(|n| Lot::parse(n).ok())
        else {
            continue;
        };
        for f in std::fs::read_dir(&dir)? {
            let f = f?.path();
            if f.extension().is_some_and(|x| x == "csv") {
                out.push((lot, f));
            }
        }
    }
    out.sort_by(|a, b| (a.0, a.1.file_name()).cmp(&(b.0, b.1.file_name())));
    Ok(out)
}

fn ingest_all(store: Store, feeds: &Path, data: &Path) -> Result<()> {
    import(
        &store,
        ImportKind::Operators,
        &feeds.join("buyer/operators.csv"),
    )?;
    import(
        &store,
        ImportKind::PurchaseOrders,
        &feeds.join("buyer/purchase-orders.csv"),
    )?;
    let files = feed_files(&feeds.join("inbox"))?;
    let ingestor = Ingestor::new(store, data);
    let t = Instant::now();
    let (mut lines, mut accepted, mut quarantined) = (0u64, 0u64, 0u64);
    for (i, (lot, path)) in files.iter().enumerate() {
        let sub = Submission {
            file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
            lot: *lot,
            channel: Channel::Cli,
            received_at: None,
            json_kind: None,
        };
        let r = ingestor.ingest_file(path, &sub)?;
        lines += r.lines;
        accepted += r.accepted;
        quarantined += r.quarantined;
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "  {} of {} files, {lines} lines, {:.0} s",
                i + 1,
                files.len(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "  ingested {} files, {lines} lines ({accepted} accepted, {quarantined} quarantined) in {s:.1} s = {:.0} lines/s",
        files.len(),
        lines as f64 / s
    );
    Ok(())
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .ok_or("give sqlite or a PostgreSQL server URL")?;
    let scale: f64 = args.next().map_or(Ok(1.0), |a| a.parse())?;
    let months: u32 = args.next().map_or(Ok(12), |a| a.parse())?;
    let tmp = tempfile::tempdir()?;
    let feeds = tmp.path().join("feeds");
    let t = Instant::now();
    let config = cep_synth::SynthConfig::new(1, "2025-01".parse()?, months, scale);
    let s = cep_synth::generate(&config, &feeds)?;
    println!(
        "national year: {} dossiers, {} fiches, {} files generated in {:.1} s",
        s.dossiers,
        s.fiches,
        s.files,
        t.elapsed().as_secs_f64()
    );
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data)?;
    if target == "sqlite" {
        let store = Store::open_and_migrate(&DatabaseUrl::Sqlite(data.join("cep.db")), 2)?;
        ingest_all(store, &feeds, &data)?;
    } else {
        cep_store::with_scratch_database(&target, "cep_national", |url| -> Result<()> {
            let store = Store::open_and_migrate(&DatabaseUrl::parse(url)?, 2)?;
            ingest_all(store, &feeds, &data)
        })?;
    }
    println!(
        "  reproduce: cargo run --release -p cep-ingest --example national_year -- {target} {scale} {months}"
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
