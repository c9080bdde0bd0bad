//! The scheduler on a compressed clock: `cep schedule tick --at T` is the tick `cep serve`
//! runs every minute, each invocation a fresh process (a restart). A monthly run happens once
//! for its period, the runs missed while the service was down are caught up on the next tick,
//! and the documents reach their recipients through a real SMTP server on loopback, once.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::ok;

fn cep(data: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cep"))
        .env("CEP_DATA_DIR", data)
        .env_remove("CEP_DATABASE_URL")
        .env("CEP_CONFIG", config)
        .env("CEP_LOG", "warn")
        .args(args)
        .output()
        .expect("cep runs")
}

#[test]
fn a_monthly_run_happens_once_and_missed_runs_are_caught_up() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = tmp.path().join("feeds");
    let mailbox = tmp.path().join("mail");
    let (_smtp, port) = common::smtp_server(&mailbox);
    let config = tmp.path().join("cep.toml");
    std::fs::write(
        &config,
        format!(
            r#"[reports]
start = "2025-01"
hour = 6
monthly_day = 5
quarterly_day = 10

[reports.smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "Régulation CEP <cep@francecompetences.fr>"

[[reports.recipients]]
kind = "comite-suivi"
lot = "08"
to = ["comite08@example.fr"]

[[reports.recipients]]
kind = "synthese-nationale"
to = ["dg@example.fr"]
"#
        ),
    )
    .unwrap();
    let run = |args: &[&str]| ok(cep(&data, &config, args));
    run(&[
        "synth",
        "--out",
        feeds.to_str().unwrap(),
        "--seed",
        "2",
        "--months",
        "3",
        "--scale",
        "0.01",
        "--lots",
        "08",
    ]);
    for kind in ["operators", "purchase-orders"] {
        let file = feeds.join("buyer").join(format!("{kind}.csv"));
        run(&["import", kind, file.to_str().unwrap()]);
    }
    let monthly = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| {
                l.starts_with("monthly")
                    || l.starts_with("quarterly")
                    || l.starts_with("half-yearly")
            })
            .map(|l| l.split(':').next().unwrap().to_owned())
            .collect()
    };

    // The day before: nothing monthly yet.
    let out = run(&["schedule", "tick", "--at", "2025-02-04T12:00:00+01:00"]);
    assert!(monthly(&out).is_empty(), "{out}");
    // On the 5th at 06:00 Paris: January's documents, once.
    let out = run(&["schedule", "tick", "--at", "2025-02-05T06:30:00+01:00"]);
    assert_eq!(monthly(&out), vec!["monthly 2025-01"], "{out}");
    assert!(out.contains("e-mail: 2 sent"), "{out}");
    let out = run(&["schedule", "tick", "--at", "2025-02-05T06:31:00+01:00"]);
    assert!(monthly(&out).is_empty(), "ran once: {out}");
    // Down from February 5 to April 12: February, March and the first quarter caught up.
    let out = run(&["schedule", "tick", "--at", "2025-04-12T07:00:00+02:00"]);
    assert_eq!(
        monthly(&out),
        vec!["monthly 2025-02", "monthly 2025-03", "quarterly 2025-T1"],
        "{out}"
    );
    let out = run(&["schedule", "tick", "--at", "2025-04-12T07:01:00+02:00"]);
    assert!(monthly(&out).is_empty(), "{out}");

    // Each job and period once, done.
    let status = run(&["schedule", "status"]);
    let runs: Vec<(String, String, String)> = status
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .filter(|(job, _, _)| !job.starts_with("daily-"))
        .collect();
    assert_eq!(
        runs,
        vec![
            ("monthly".into(), "2025-01".into(), "done".into()),
            ("monthly".into(), "2025-02".into(), "done".into()),
            ("monthly".into(), "2025-03".into(), "done".into()),
            ("quarterly".into(), "2025-T1".into(), "done".into()),
        ],
        "{status}"
    );
    // Two e-mails a month (lot 08's follow-up, the national summary), each once, PDF attached.
    let mut mails: Vec<String> = std::fs::read_dir(mailbox.join("new"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    mails.sort();
    assert_eq!(mails.len(), 6, "{mails:?}");
    for month in ["2025-01", "2025-02", "2025-03"] {
        for (to, file) in [
            (
                "comite08@example.fr",
                format!("comite-suivi_L08_{month}.pdf"),
            ),
            ("dg@example.fr", format!("synthese-nationale_{month}.pdf")),
        ] {
            let n = mails
                .iter()
                .filter(|m| m.contains(&format!("To: {to}")) && m.contains(&file))
                .count();
            assert_eq!(n, 1, "{file} to {to}");
        }
    }
    assert!(mails.iter().all(|m| m.contains("application/pdf")));
}
