//! `cep backup` and `cep restore` on both backends: a store with ingested feeds, raw files and
//! audit entries is backed up, destroyed and restored into an empty database; every table (by
//! its digest), every raw file and the audit chain are identical. A damaged backup restores
//! nothing.

use cep_store::DatabaseUrl;
use cep_store::models::access::NewAuditEntry;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::ok;

fn cep(data: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cep"))
        .env("CEP_DATA_DIR", data)
        .env("CEP_DATABASE_URL", db)
        .env_remove("CEP_CONFIG")
        .env("CEP_LOG", "warn")
        .args(args)
        .output()
        .expect("cep runs")
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// Fills a store through the CLI (feeds, buyer files) and the audit log through the store.
fn fill(tmp: &Path, data: &Path, db: &str) {
    let feeds = tmp.join("feeds");
    common::synth_and_import(&|a| ok(cep(data, db, a)), &feeds, "5", "2", "0.01", "08");
    ok(cep(
        data,
        db,
        &["ingest", feeds.join("inbox").to_str().unwrap()],
    ));
    let store = cep_store::Store::open(&DatabaseUrl::parse(db).unwrap(), 1).unwrap();
    for i in 0..3 {
        NewAuditEntry {
            at: cep_store::models::now_utc(),
            actor: "med".into(),
            role: "mediator".into(),
            action: "dossier_access".into(),
            lot: Some("08".into()),
            target: Some(format!("PL25010100000{i}")),
            detail: format!("case {i}"),
        }
        .append(&mut store.conn().unwrap())
        .unwrap();
    }
}

fn digests(db: &str) -> BTreeMap<String, cep_store::digest::TableDigest> {
    let store = cep_store::Store::open(&DatabaseUrl::parse(db).unwrap(), 1).unwrap();
    cep_store::digest::table_digests(&mut store.conn().unwrap()).unwrap()
}

/// Backs up, destroys with `destroy`, restores, and compares.
fn round_trip(tmp: &Path, db: &str, destroy: impl Fn()) {
    let data = tmp.join("data");
    fill(tmp, &data, db);
    let before = digests(db);
    assert!(
        before["fiches"].rows > 0 && before["audit_log"].rows == 3,
        "{before:?}"
    );
    let archive_before = files(&data.join("archive"));
    assert!(!archive_before.is_empty());
    let backup = tmp.join("backup");
    ok(cep(
        &data,
        db,
        &["backup", "--out", backup.to_str().unwrap()],
    ));

    // A damaged copy of the backup restores nothing.
    let damaged = tmp.join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for (p, bytes) in files(&backup) {
        let to = damaged.join(&p);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    let victim = damaged.join("files").join("archive");
    let first = files(&victim).into_keys().next().unwrap();
    let mut bytes = std::fs::read(victim.join(&first)).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(victim.join(&first), bytes).unwrap();

    std::fs::remove_dir_all(&data).unwrap();
    destroy();
    let out = cep(&data, db, &["restore", damaged.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum differs"), "{err}");
    assert!(!data.join("archive").exists(), "nothing restored");

    let said = ok(cep(&data, db, &["restore", backup.to_str().unwrap()]));
    assert!(said.contains("all identical to the backup"), "{said}");
    assert_eq!(digests(db), before, "every table as it was");
    assert_eq!(
        files(&data.join("archive")),
        archive_before,
        "every raw file as it was"
    );
    ok(cep(&data, db, &["audit", "verify"]));
    // Restoring again over the restored store is refused.
    let again = cep(&data, db, &["restore", backup.to_str().unwrap()]);
    assert!(!again.status.success());
}

#[test]
fn sqlite_backup_destroyed_and_restored_is_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = tmp.path().join("db").join("cep.db");
    let db = format!("sqlite://{}", db_path.display());
    round_trip(tmp.path(), &db, || {
        std::fs::remove_dir_all(db_path.parent().unwrap()).unwrap();
    });
}

#[test]
fn postgres_backup_destroyed_and_restored_is_identical() {
    let Some(server) = std::env::var("CEP_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        assert!(
            std::env::var("CEP_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "CEP_TEST_REQUIRE_POSTGRES=1 but CEP_TEST_POSTGRES_URL is not set"
        );
        eprintln!("note: PostgreSQL backup test skipped (CEP_TEST_POSTGRES_URL not set)");
        return;
    };
    let server = server.trim_end_matches('/').to_owned();
    let name = format!(
        "cep_backup_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let admin = || diesel::PgConnection::establish(&format!("{server}/postgres")).unwrap();
    admin()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let db = format!("{server}/{name}");
    let tmp = tempfile::tempdir().unwrap();
    let result = std::panic::catch_unwind(|| {
        round_trip(tmp.path(), &db, || {
            let mut a = admin();
            a.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .unwrap();
            a.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        })
    });
    admin()
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .ok();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
