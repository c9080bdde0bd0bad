//! The scheduler on a compressed clock: `cep schedule tick --at T` is the tick `cep serve`
//! runs every minute, each invocation a fresh process (a restart). A monthly run happens once
//! for its period, the runs missed while the service was down are caught up on the next tick,
//! and the documents reach their recipients through a real SMTP server on loopback, once.

use std::path::Path;
use std::process::Output;

mod common;
use common::ok;

fn cep(data: &Path, config: &Path, args: &[&str]) -> Output {
    common::cep_command(data, Some(config))
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
    common::synth_and_import(&|a| run(a), &feeds, "2", "3", "0.01", "08");
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

/// Text of a feed file: UTF-8, else Windows-1252 (the synthetic feed has one such file).
fn decode(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| {
        bytes
            .iter()
            .map(|&b| match b {
                0x80 => '€',
                0x92 => '’',
                0x8C => 'Œ',
                0x9C => 'œ',
                b => char::from(b),
            })
            .collect()
    })
}

/// The operator's feed as JSON records (spec §5): each CSV row of its daily dossier files that
/// a direct ingestion accepts (the synthetic truth lists the blocking lines), lists as arrays.
fn json_records(feeds: &Path) -> Vec<serde_json::Value> {
    let truth = std::fs::read_to_string(feeds.join("truth").join("anomalies.csv")).unwrap();
    let blocking: Vec<(String, String)> = truth
        .lines()
        .skip(1)
        .map(|l| l.split(';').collect::<Vec<_>>())
        .filter(|f| f[4].contains("blocking") || f[3] == "LINE_FORMAT")
        .map(|f| (f[0].rsplit('/').next().unwrap().to_owned(), f[1].to_owned()))
        .collect();
    let mut files: Vec<_> = std::fs::read_dir(feeds.join("inbox").join("L08"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("_DOSSIERS_"))
        .collect();
    files.sort();
    let lists = [
        "dates_interactions",
        "modes_contact",
        "types_service",
        "prestations_complementaires",
        "financement_formation",
        "decouvertes_metiers",
    ];
    let mut records = vec![];
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = decode(&std::fs::read(&f).unwrap());
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let Some(header) = lines.next() else { continue };
        let header: Vec<&str> = header.split(';').collect();
        for (i, line) in lines.enumerate() {
            let number = (i + 2).to_string();
            if line.is_empty() || blocking.contains(&(name.clone(), number)) {
                continue;
            }
            let mut o = serde_json::Map::new();
            for (k, v) in header.iter().zip(line.split(';')) {
                if v.is_empty() {
                    continue;
                }
                let value = if lists.contains(k) {
                    serde_json::Value::Array(v.split('|').map(|x| x.into()).collect())
                } else {
                    v.into()
                };
                o.insert((*k).to_owned(), value);
            }
            records.push(serde_json::Value::Object(o));
        }
    }
    records
}

#[test]
fn the_daily_job_pulls_each_configured_lot_and_a_failed_pull_waits_before_its_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = tmp.path().join("feeds");
    let run = |args: &[&str]| ok(common::cep(&data, args));
    common::synth_and_import(&|a| run(a), &feeds, "5", "1", "0.01", "08");

    // Lot 08's operator serves its feed in two pages behind its bearer token.
    let records = json_records(&feeds);
    assert!(records.len() > 20, "a feed to pull: {}", records.len());
    let (first, second) = records.split_at(records.len() / 2);
    let page = |r: &[serde_json::Value], next: Option<&str>| {
        let mut v = serde_json::json!({"lot": "08", "records": r});
        if let Some(n) = next {
            v["next"] = n.into();
        }
        v.to_string()
    };
    let (pages, second) = (
        [page(first, Some("page-2")), page(second, None)],
        second.len(),
    );
    let (url_08, log_08) = common::http_server(move |target, auth| {
        if auth != "bearer token-of-lot-08" {
            return (401, String::new());
        }
        if target.contains("since=2019-12-01") {
            (200, pages[0].clone())
        } else if target.contains("since=page-2") {
            (200, pages[1].clone())
        } else {
            (200, r#"{"lot": "08", "records": []}"#.into())
        }
    });
    // Lot 11's endpoint is down; lot 13's token is not in the environment.
    let (url_11, log_11) = common::http_server(|_, _| (503, String::new()));
    let config = tmp.path().join("cep.toml");
    std::fs::write(
        &config,
        format!(
            r#"[reports]
start = "2030-01"
sweep_hour = 2
retry_minutes = 30

[[pull]]
lot = "08"
url = "{url_08}"
token_env = "CEP_TEST_PULL_TOKEN_08"

[[pull]]
lot = "11"
url = "{url_11}/"
token_env = "CEP_TEST_PULL_TOKEN_11"
retries = 1
timeout_seconds = 5

[[pull]]
lot = "13"
url = "https://operateur13.example"
token_env = "CEP_TEST_PULL_TOKEN_13"
"#
        ),
    )
    .unwrap();
    let tick = |at: &str| -> String {
        let out = common::cep_command(&data, Some(&config))
            .env("CEP_TEST_PULL_TOKEN_08", "token-of-lot-08")
            .env("CEP_TEST_PULL_TOKEN_11", "token-of-lot-11")
            .env_remove("CEP_TEST_PULL_TOKEN_13")
            .args(["schedule", "tick", "--at", at])
            .output()
            .expect("cep runs");
        ok(out)
            .lines()
            .filter(|l| l.starts_with("daily-pull"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let line = |out: &str, lot: &str| -> Option<String> {
        out.lines()
            .find(|l| l.starts_with(&format!("daily-pull 2025-06-02-L{lot}:")))
            .map(str::to_owned)
    };

    assert_eq!(
        tick("2025-06-02T01:30:00+02:00"),
        "",
        "not before the sweep hour"
    );
    let out = tick("2025-06-02T02:00:00+02:00");
    let l08 = line(&out, "08").expect(&out);
    assert!(l08.contains(": done, 2 page(s)"), "{l08}");
    let l11 = line(&out, "11").expect(&out);
    assert!(
        l11.contains("FAILED:") && l11.contains("2 attempt(s) failed") && l11.contains("503"),
        "{l11}"
    );
    let l13 = line(&out, "13").expect(&out);
    assert!(
        l13.contains("FAILED:") && l13.contains("$CEP_TEST_PULL_TOKEN_13, which is not set"),
        "{l13}"
    );
    // Lot 08: every page with its token, then its fiches in the store exactly as a direct
    // ingestion of the same feed stores them.
    let seen = log_08.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter()
            .all(|(_, auth)| auth == "bearer token-of-lot-08")
    );
    let pulled = common::sqlite_count(&data.join("cep.db"), "SELECT COUNT(*) AS n FROM fiches");
    let direct = tmp.path().join("direct");
    ok(common::cep(
        &direct,
        &[
            "import",
            "operators",
            feeds.join("buyer/operators.csv").to_str().unwrap(),
        ],
    ));
    ok(common::cep(
        &direct,
        &[
            "import",
            "purchase-orders",
            feeds.join("buyer/purchase-orders.csv").to_str().unwrap(),
        ],
    ));
    ok(common::cep(
        &direct,
        &["ingest", feeds.join("inbox/L08").to_str().unwrap()],
    ));
    let ingested = common::sqlite_count(&direct.join("cep.db"), "SELECT COUNT(*) AS n FROM fiches");
    assert!(pulled > second as i64, "{pulled}");
    assert_eq!(
        pulled, ingested,
        "pulled fiches against the same feed ingested from files"
    );

    // Ten minutes later: nothing runs again, the failures wait for their retry delay.
    assert_eq!(tick("2025-06-02T02:10:00+02:00"), "");
    assert_eq!(log_11.lock().unwrap().len(), 2, "one pull, two attempts");
    // Past the delay, the failed lots are tried again; lot 08 is done for the day.
    let out = tick("2025-06-02T02:31:00+02:00");
    assert!(line(&out, "08").is_none(), "{out}");
    assert!(line(&out, "11").expect(&out).contains("FAILED:"), "{out}");
    assert!(line(&out, "13").is_some(), "{out}");
    assert_eq!(log_11.lock().unwrap().len(), 4);
    // The next day, lot 08 resumes from its cursor: one request, an empty page, nothing new.
    let out = tick("2025-06-03T02:00:00+02:00");
    let next = out
        .lines()
        .find(|l| l.starts_with("daily-pull 2025-06-03-L08:"))
        .expect(&out);
    assert!(next.contains("done, 1 page(s), 0 line(s)"), "{next}");
    let seen = log_08.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        !seen[2].0.contains("2019-12-01") && !seen[2].0.contains("page-2"),
        "{seen:?}"
    );
    assert_eq!(
        common::sqlite_count(&data.join("cep.db"), "SELECT COUNT(*) AS n FROM fiches"),
        pulled
    );

    // By hand, `cep pull --lot 08` takes the lot's [[pull]]: one more request, from the cursor.
    let by_hand = |lot: &str| {
        common::cep_command(&data, Some(&config))
            .env("CEP_TEST_PULL_TOKEN_08", "token-of-lot-08")
            .env_remove("CEP_TEST_PULL_TOKEN_13")
            .args(["pull", "--lot", lot])
            .output()
            .expect("cep runs")
    };
    let out = by_hand("08");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lot 08: 1 page(s)"),
        "{out:?}"
    );
    assert_eq!(log_08.lock().unwrap().len(), 4);
    let out = by_hand("13");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("$CEP_TEST_PULL_TOKEN_13, which is not set"),
        "{out:?}"
    );
    let out = by_hand("05");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("configure a [[pull]] for lot 05"),
        "{out:?}"
    );
}
