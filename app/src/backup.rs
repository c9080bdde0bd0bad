//! `cep backup` and `cep restore`: the database (PostgreSQL through `pg_dump`/`pg_restore`,
//! SQLite through `VACUUM INTO`, an online consistent copy) and the archived raw files, with a
//! manifest of every table's digest and a SHA-256 of every file. A restore goes into an empty
//! database only, checks every checksum first, and proves afterwards that every table, every raw
//! file and the audit chain are as they were.

use crate::settings::Settings;
use crate::{Context, Result, bail, ensure};
use cep_store::DatabaseUrl;
use cep_store::digest::{TableDigest, table_digests};
use diesel::connection::SimpleConnection;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST: &str = "manifest.json";
const SUMS: &str = "SHA256SUMS";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Manifest {
    created_at: String,
    backend: String,
    database_file: String,
    tables: BTreeMap<String, TableDigest>,
    audit_entries: usize,
    files: Vec<String>,
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", path.display()))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Every file under `dir`, relative paths, sorted.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("{what}: cannot run {:?}", cmd.get_program()))?;
    ensure!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

pub fn backup(settings: &Settings, out: &Path) -> Result<()> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty: back up into a new folder", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let url = settings.database_url()?;
    let store = crate::open_store(settings)?;
    let mut conn = store.conn()?;
    let started = std::time::Instant::now();
    let (database_file, tables) = match &url {
        DatabaseUrl::Postgres(u) => {
            // The digests and the dump read the same snapshot.
            conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
            #[derive(diesel::QueryableByName)]
            struct Snap {
                #[diesel(sql_type = diesel::sql_types::Text)]
                id: String,
            }
            let snap: Snap =
                cep_store::on_backend!(&mut *conn, |c| diesel::RunQueryDsl::get_result(
                    diesel::sql_query("SELECT pg_export_snapshot() AS id"),
                    c
                ))?;
            let tables = table_digests(&mut conn)?;
            let file = "database.pgdump";
            eprintln!("dumping the database (pg_dump)…");
            run(
                Command::new("pg_dump")
                    .args([
                        "--format=custom",
                        "--no-owner",
                        "--snapshot",
                        &snap.id,
                        "--file",
                    ])
                    .arg(out.join(file))
                    .arg(u),
                "pg_dump",
            )?;
            conn.batch_execute("COMMIT")?;
            (file, tables)
        }
        DatabaseUrl::Sqlite(_) => {
            let file = "database.sqlite";
            let target = out.join(file);
            let path = target.to_string_lossy().replace('\'', "''");
            eprintln!("copying the database (VACUUM INTO)…");
            conn.batch_execute(&format!("VACUUM INTO '{path}'"))?;
            // The digests of the copy itself.
            let copy = cep_store::Store::open(&DatabaseUrl::Sqlite(target.clone()), 1)?;
            let tables = table_digests(&mut *copy.conn()?)?;
            (file, tables)
        }
    };
    let audit_entries = match cep_store::models::access::verify_audit(&mut conn)? {
        Ok(n) => n,
        Err(b) => bail!(
            "the audit chain is broken at entry {} ({}): fix it before backing up",
            b.id,
            b.reason
        ),
    };
    // The archived raw files.
    let archive = settings.data_dir.join("archive");
    let files = files_under(&archive)?;
    for (i, f) in files.iter().enumerate() {
        if i % 500 == 0 {
            eprint!("\r  files {}/{}", i, files.len());
        }
        let to = out.join("files").join("archive").join(f);
        std::fs::create_dir_all(to.parent().expect("has a parent"))?;
        std::fs::copy(archive.join(f), &to).with_context(|| format!("copying {}", f.display()))?;
    }
    if !files.is_empty() {
        eprintln!("\r  files {}/{}", files.len(), files.len());
    }
    let manifest = Manifest {
        created_at: cep_store::models::now_utc()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
        backend: format!("{:?}", url.backend()).to_lowercase(),
        database_file: database_file.to_owned(),
        tables,
        audit_entries,
        files: files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect(),
    };
    std::fs::write(
        out.join(MANIFEST),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    // Checksums of everything, `sha256sum -c` compatible.
    let mut sums = String::new();
    let mut listed = vec![PathBuf::from(database_file), PathBuf::from(MANIFEST)];
    listed.extend(files.iter().map(|f| Path::new("files/archive").join(f)));
    let mut bytes = 0u64;
    for p in &listed {
        let full = out.join(p);
        bytes += std::fs::metadata(&full)?.len();
        sums.push_str(&format!("{}  {}\n", sha256_file(&full)?, p.display()));
    }
    std::fs::write(out.join(SUMS), sums)?;
    println!(
        "backup of {} tables ({} rows), {} raw files and {} audit entries in {}: {:.1} MB, {:.1} s",
        manifest.tables.len(),
        manifest.tables.values().map(|t| t.rows).sum::<u64>(),
        files.len(),
        audit_entries,
        out.display(),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn restore(settings: &Settings, from: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    // Every checksum first: a damaged backup restores nothing.
    let sums = std::fs::read_to_string(from.join(SUMS))
        .with_context(|| format!("{} has no {SUMS}: not a cep backup", from.display()))?;
    for line in sums.lines() {
        let (sum, path) = line
            .split_once("  ")
            .with_context(|| format!("{SUMS}: unreadable line {line:?}"))?;
        let actual = sha256_file(&from.join(path))?;
        ensure!(
            actual == sum,
            "{path}: checksum differs from {SUMS}: the backup is damaged"
        );
    }
    let manifest: Manifest = serde_json::from_str(&std::fs::read_to_string(from.join(MANIFEST))?)
        .context("reading the manifest")?;
    let url = settings.database_url()?;
    let backend = format!("{:?}", url.backend()).to_lowercase();
    ensure!(
        backend == manifest.backend,
        "the backup is of a {} database; the configured one is {backend}",
        manifest.backend
    );
    match &url {
        DatabaseUrl::Postgres(u) => {
            let mut conn = url.connect()?;
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let n: N = cep_store::on_backend!(&mut conn, |c| diesel::RunQueryDsl::get_result(
                diesel::sql_query(
                    "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'"
                ),
                c
            ))?;
            ensure!(
                n.n == 0,
                "{} is not empty ({} tables): restore into an empty database",
                url.masked(),
                n.n
            );
            drop(conn);
            eprintln!("restoring the database (pg_restore)…");
            run(
                Command::new("pg_restore")
                    .args(["--no-owner", "--exit-on-error", "--dbname", u])
                    .arg(from.join(&manifest.database_file)),
                "pg_restore",
            )?;
        }
        DatabaseUrl::Sqlite(path) => {
            ensure!(
                !path.exists() || std::fs::metadata(path)?.len() == 0,
                "{} exists: restore into an empty database (move it away first)",
                path.display()
            );
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("restoring");
            std::fs::copy(from.join(&manifest.database_file), &tmp)?;
            std::fs::rename(&tmp, path)?;
        }
    }
    // The raw files.
    let archive = settings.data_dir.join("archive");
    for f in &manifest.files {
        let to = archive.join(f);
        let src = from.join("files").join("archive").join(f);
        if to.exists() {
            ensure!(
                sha256_file(&to)? == sha256_file(&src)?,
                "{} exists with other content: not overwritten",
                to.display()
            );
            continue;
        }
        std::fs::create_dir_all(to.parent().expect("has a parent"))?;
        std::fs::copy(&src, &to)?;
    }
    // Proof: every table as backed up, the audit chain intact.
    let store = cep_store::Store::open(&url, 1)?;
    let mut conn = store.conn()?;
    let tables = table_digests(&mut conn)?;
    let differing: Vec<&String> = manifest
        .tables
        .iter()
        .filter(|(t, d)| tables.get(*t) != Some(d))
        .map(|(t, _)| t)
        .collect();
    ensure!(
        differing.is_empty() && tables.len() == manifest.tables.len(),
        "restored, but these tables differ from the backup: {differing:?}"
    );
    match cep_store::models::access::verify_audit(&mut conn)? {
        Ok(n) => ensure!(
            n == manifest.audit_entries,
            "the audit log has {n} entries, the backup {}",
            manifest.audit_entries
        ),
        Err(b) => bail!(
            "restored, but the audit chain breaks at entry {} ({})",
            b.id,
            b.reason
        ),
    }
    println!(
        "restored {} tables ({} rows, all identical to the backup), {} raw files, {} audit entries (chain intact) into {} in {:.1} s",
        tables.len(),
        tables.values().map(|t| t.rows).sum::<u64>(),
        manifest.files.len(),
        manifest.audit_entries,
        url.masked(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
