//! Faults: the scheduler's process killed at several points while it makes the month's
//! documents and the quarter's statements and sends their e-mails, then started again. After
//! each restart the runs finish; nothing is lost (every job done, every document stored, every
//! e-mail sent) and nothing is duplicated (one document per type, lot and period, one statement
//! per number, one e-mail per document and recipient).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{Peer, free_port, ok, sqlite_count};

fn cep(data: &Path, config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cep"));
    c.env("CEP_DATA_DIR", data)
        .env_remove("CEP_DATABASE_URL")
        .env("CEP_CONFIG", config)
        .env("CEP_LOG", "warn");
    c
}

#[test]
fn killed_while_making_documents_statements_and_e_mails_nothing_is_lost_or_duplicated() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = tmp.path().join("feeds");
    let mailbox = tmp.path().join("mail");
    let port = free_port();
    let _smtp = Peer::start(
        Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&mailbox)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        port,
    );
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
    run(&[
        "synth",
        "--out",
        feeds.to_str().unwrap(),
        "--seed",
        "4",
        "--months",
        "3",
        "--scale",
        "0.05",
        "--lots",
        "08,09,19",
    ]);
    for kind in ["operators", "purchase-orders"] {
        let file = feeds.join("buyer").join(format!("{kind}.csv"));
        run(&["import", kind, file.to_str().unwrap()]);
    }
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
