//! Fingerprints the migrations so that test databases are cloned from a template migrated with
//! exactly these files (see `testing.rs`). Reads local files only.
use std::path::Path;

fn digest_dir(dir: &Path, h: &mut u64) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations dir")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        for b in p.file_name().unwrap_or_default().to_string_lossy().bytes() {
            *h = (*h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        if p.is_dir() {
            digest_dir(&p, h);
        } else {
            for b in std::fs::read(&p).expect("migration file") {
                *h = (*h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    digest_dir(&dir, &mut h);
    println!("cargo:rustc-env=CEP_MIGRATIONS_DIGEST={h:016x}");
}
