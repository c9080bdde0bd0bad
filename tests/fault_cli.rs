//! Faults: the scheduler's process killed at several points while it makes the month's
//! documents and the quarter's statements and sends their e-mails, then started again. After
//! each restart the runs finish; nothing is lost (every job done, every document stored, every
//! e-mail sent) and nothing is duplicated (one document per type, lot and period, one statement
//! per number, one e-mail per document and recipient).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{Peer, free_port, ok, sqlite_count};

fn cep(data: &Path, config: &Path) -> Command {
    common::cep_command(data, Some(config))
}

#[test]
fn killed_while_making_documents_statements_and_e_mails_nothing_is_lost_or_duplicated() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = tmp.path().join("feeds");
    let mailbox = tmp.path().join("mail");
    let (_smtp, port) = common::smtp_server(&mailbox);
    let config = tmp.path().join("cep.toml");
    std::fs::write(
        &config,
        format!(
            "[reports]\nstart = \"2025-01\"\n\n[reports.smtp]\nhost = \"127.0.0.1\"\nport = {port}\n\
             security = \"none\"\nfrom = \"cep@francecompetences.fr\"\n\n[[reports.recipients]]\n\
             kind = \"*\"\nto = [\"archive@example.fr\"]\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| ok(cep(&data, &config).args(args).output().unwrap());
    common::synth_and_import(&|a| run(a), &feeds, "4", "3", "0.05", "08,09,19");
    // Received on April 1, before the scheduled runs of April 12.
    run(&[
        "ingest",
        feeds.join("inbox").to_str().unwrap(),
        "--received-at",
        "2025-04-01T12:00:00+02:00",
    ]);
    let db = data.join("cep.db");
    // April 12: January to March and the first quarter are due.
    let at = "2025-04-12T07:00:00+02:00";
    let mut interrupted = 0;
    for delay_ms in [300u64, 900, 1500, 2500, 4000] {
        let mut child = cep(&data, &config)
            .args(["schedule", "tick", "--at", at])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().ok();
        let status = child.wait().unwrap();
        // Killed before the tick ended (it exits 0 when it finished first).
        interrupted += usize::from(!status.success());
        // After any kill: nothing duplicated.
        assert_eq!(
            sqlite_count(
                &db,
                "SELECT count(*) AS n FROM (SELECT kind, lot, period FROM documents GROUP BY kind, lot, period HAVING count(*) > 1) x"
            ),
            0,
            "a document stored twice (killed after {delay_ms} ms)"
        );
        assert_eq!(
            sqlite_count(
                &db,
                "SELECT count(*) AS n FROM (SELECT number FROM consumption_statements GROUP BY number HAVING count(*) > 1) x"
            ),
            0
        );
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} kill(s) landed before the tick ended"
    );
    // Started again until done: every job done, every e-mail sent once.
    run(&["schedule", "tick", "--at", at]);
    run(&["schedule", "tick", "--at", "2025-04-12T07:30:00+02:00"]);
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT count(*) AS n FROM job_runs WHERE job IN ('monthly', 'quarterly') AND status = 'done'"
        ),
        4
    );
    let documents = sqlite_count(&db, "SELECT count(*) AS n FROM documents");
    // Three months × (3 lots + national) and the quarter's statements.
    let statements = sqlite_count(
        &db,
        "SELECT count(DISTINCT number) AS n FROM consumption_statements",
    );
    assert!(statements > 0);
    assert_eq!(documents, 3 * 4 + statements);
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT count(*) AS n FROM email_outbox WHERE status = 'sent'"
        ),
        documents
    );
    let received: Vec<String> = std::fs::read_dir(mailbox.join("new"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // An e-mail the server accepted just before a kill can be sent again (the outbox says so):
    // at most one per kill, never lost.
    assert!(
        received.len() as i64 >= documents,
        "{} received, {documents} documents",
        received.len()
    );
    assert!(received.len() as i64 <= documents + 5);
}

/// `pg_ctl` on a private cluster, as the `postgres` user (initdb refuses root).
fn pg_ctl(dir: &Path, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--", "pg_ctl", "-D"])
        .arg(dir)
        .args(args)
        .output()
        .expect("runuser and pg_ctl (PostgreSQL server binaries)");
    assert!(
        out.status.success(),
        "pg_ctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_database_going_away_makes_the_service_unready_and_it_recovers_when_it_is_back() {
    let tmp = tempfile::tempdir().unwrap();
    // A private PostgreSQL cluster, so that stopping it disturbs no other test.
    let cluster = tmp.path().join("pg");
    std::fs::create_dir_all(&cluster).unwrap();
    for p in [tmp.path(), cluster.as_path()] {
        assert!(
            Command::new("chmod")
                .arg("755")
                .arg(p)
                .status()
                .unwrap()
                .success()
        );
    }
    assert!(
        Command::new("chown")
            .arg("postgres")
            .arg(&cluster)
            .status()
            .unwrap()
            .success()
    );
    let init = Command::new("runuser")
        .args([
            "-u", "postgres", "--", "initdb", "-A", "trust", "-U", "postgres", "-D",
        ])
        .arg(&cluster)
        .output()
        .expect("initdb");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let pg_port = free_port();
    let opts = format!(
        "-p {pg_port} -k {} -c listen_addresses=127.0.0.1",
        cluster.display()
    );
    let log = cluster.join("log");
    let start = || {
        pg_ctl(
            &cluster,
            &["-o", &opts, "-l", log.to_str().unwrap(), "-w", "start"],
        )
    };
    start();
    struct Stop(std::path::PathBuf);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--", "pg_ctl", "-D"])
                .arg(&self.0)
                .args(["-m", "immediate", "stop"])
                .output();
        }
    }
    let _stop = Stop(cluster.clone());
    let db = format!("postgres://postgres@127.0.0.1:{pg_port}/postgres");

    let data = tmp.path().join("data");
    let api_port = free_port();
    let base = format!("http://127.0.0.1:{api_port}");
    let _server = Peer::start(
        Command::new(env!("CARGO_BIN_EXE_cep"))
            .env("CEP_DATA_DIR", &data)
            .env("CEP_DATABASE_URL", &db)
            .env_remove("CEP_CONFIG")
            .env("CEP_LOG", "warn")
            .env("CEP_API_JWT_SECRET", "a-test-secret-of-more-than-32-bytes!")
            .args(["serve", "--bind", &format!("127.0.0.1:{api_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        api_port,
    );
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let ready = || {
        client
            .get(format!("{base}/ready"))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let login = || {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "nobody", "password": "not a real password"}))
            .send()
            .unwrap()
    };
    assert_eq!(ready(), 200);
    assert_eq!(
        login().status(),
        401,
        "the database answers: an unknown user"
    );

    // The database goes away: unready, requests answered 503 with a problem, no crash.
    pg_ctl(&cluster, &["-m", "immediate", "stop"]);
    assert_eq!(ready(), 503);
    let r = login();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("out of reach"),
        "{body}"
    );
    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .unwrap()
            .status(),
        200,
        "alive"
    );

    // Back: the service recovers by itself.
    start();
    let mut recovered = false;
    for _ in 0..30 {
        if ready() == 200 {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(recovered, "ready again once the database is back");
    assert_eq!(login().status(), 401);
}

/// A synthetic month of lot 08 with its buyer files imported, and the month's first dossier
/// file copied into the inbox: `(inbox, file name)`.
fn lot08_file_in_inbox(tmp: &Path, data: &Path, config: &Path) -> (PathBuf, String) {
    let feeds = tmp.join("feeds");
    let run = |args: &[&str]| cep(data, config).args(args).output().unwrap();
    common::synth_and_import(&|a| ok(run(a)), &feeds, "3", "1", "0.01", "08");
    let inbox = data.join("inbox").join("L08");
    std::fs::create_dir_all(&inbox).unwrap();
    let feed = std::fs::read_dir(feeds.join("inbox").join("L08"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("DOSSIERS"))
        .unwrap();
    let name = feed.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::copy(&feed, inbox.join(&name)).unwrap();
    (inbox, name)
}

/// The file `name` was received once and accepted once.
fn assert_processed_once(db: &Path, name: &str) {
    assert_eq!(
        sqlite_count(
            db,
            &format!("SELECT count(DISTINCT sha256) AS n FROM receipts WHERE file_name = '{name}'")
        ),
        1
    );
    assert_eq!(
        sqlite_count(
            db,
            &format!(
                "SELECT count(*) AS n FROM receipts WHERE file_name = '{name}' AND status = 'accepted'"
            )
        ),
        1,
        "processed once"
    );
}

#[test]
fn a_read_only_inbox_is_reported_clearly_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("none.toml");
    std::fs::write(&config, "").unwrap();
    let run = |args: &[&str]| cep(&data, &config).args(args).output().unwrap();
    let (inbox, name) = lot08_file_in_inbox(tmp.path(), &data, &config);
    // Read-only for root too: the immutable attribute (ext4).
    let chattr = |flag: &str| {
        assert!(
            Command::new("chattr")
                .arg(flag)
                .arg(&inbox)
                .status()
                .unwrap()
                .success(),
            "chattr {flag} (e2fsprogs, on an ext4 file system)"
        );
    };
    chattr("+i");
    let out = run(&["sweep", "--settle", "0", "--no-link"]);
    chattr("-i");
    assert!(!out.status.success(), "the sweep says it failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&name) && err.contains("Operation not permitted"),
        "the error names the file and the cause: {err}"
    );
    assert!(inbox.join(&name).exists(), "the file is still there");
    // Writable again: the next sweep takes it; the file was received once.
    let swept = ok(run(&["sweep", "--settle", "0", "--no-link"]));
    assert!(swept.contains(&name), "{swept}");
    assert!(!inbox.join(&name).exists());
    assert_processed_once(&data.join("cep.db"), &name);
}

/// A small tmpfs mounted at a folder for the life of a test (root only), lazily unmounted.
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// `None` when this process may not mount (not root, or no CAP_SYS_ADMIN).
    fn mount(at: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk(at.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_reported_clearly_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    // The data folder (inbox, archive, outbox) on a 4 MB disk of its own; the database beside.
    let data = tmp.path().join("data");
    let Some(_disk) = SmallDisk::mount(&data, "4m") else {
        assert!(
            std::env::var_os("CEP_TEST_REQUIRE_MOUNT").is_none(),
            "CEP_TEST_REQUIRE_MOUNT is set but a tmpfs cannot be mounted here"
        );
        eprintln!(
            "skipped: mounting a small tmpfs needs root (CEP_TEST_REQUIRE_MOUNT=1 makes this an error)"
        );
        return;
    };
    let db = tmp.path().join("db").join("cep.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let config = tmp.path().join("cep.toml");
    std::fs::write(
        &config,
        format!("[database]\nurl = \"sqlite://{}\"\n", db.display()),
    )
    .unwrap();
    let run = |args: &[&str]| cep(&data, &config).args(args).output().unwrap();
    let (inbox, name) = lot08_file_in_inbox(tmp.path(), &data, &config);
    let sent = std::fs::read(inbox.join(&name)).unwrap();
    // Fill the disk to its last byte.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
        while f.write_all(&chunk[..1]).is_ok() {}
    }
    let out = run(&["sweep", "--settle", "0", "--no-link"]);
    assert!(!out.status.success(), "the sweep says it failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&name) && err.contains("No space left on device"),
        "the error names the file and the cause: {err}"
    );
    assert_eq!(
        std::fs::read(inbox.join(&name)).unwrap(),
        sent,
        "the file is still in the inbox, whole"
    );
    assert_eq!(
        sqlite_count(
            &db,
            &format!("SELECT count(*) AS n FROM receipts WHERE file_name = '{name}'")
        ),
        0,
        "nothing recorded of a file that could not be kept"
    );
    let partial: Vec<_> = std::fs::read_dir(data.join("archive").join("tmp"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(partial.is_empty(), "no partial copy left: {partial:?}");
    // Space again: the next sweep takes it, once.
    std::fs::remove_file(&filler).unwrap();
    let swept = ok(run(&["sweep", "--settle", "0", "--no-link"]));
    assert!(swept.contains(&name), "{swept}");
    assert!(!inbox.join(&name).exists());
    assert_processed_once(&db, &name);
}
