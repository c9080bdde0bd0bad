//! The service's receive pipeline as `cep serve` runs it, without the binary: the scheduler's
//! daily job sweeps the inbox and pulls the `[[pull]]` lots, and every receipt goes through
//! identity resolution before its report is delivered. A person known at two lots gets one
//! national id, and the later lot's dossier is reported `CONCURRENT_CEP` (CCTP 1.2.4, feed
//! point 24), whether the two files came by the drop or one of them by the pull.

#[path = "../../ingest/tests/common/mod.rs"]
mod common;
#[path = "../../ingest/tests/support/http_request.rs"]
mod http_request;

use cep_app::Settings;
use cep_app::schedule::Runner;
use cep_store::Store;
use common::{Env, csv, fiche, record};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// A valid NIR for the test person (woman, born April 1985, Rhône).
const NIR: &str = "285046912345672";

/// The same person's UO1 at lot 01 (engaged 1 March, open) and lot 08 (engaged 10 March).
fn person_at(lot: &str) -> BTreeMap<&'static str, String> {
    let mut f = fiche("01");
    f.insert("nir", NIR.into());
    if lot == "01" {
        f.insert("numero_dossier", "IF250301000001".into());
        f.insert("region_lot", "01".into());
        f.insert("reference_bc", "2025-Lot01-UO01-01-00001".into());
        f.insert("date_engagement", "2025-03-01".into());
        f.insert("dates_interactions", "2025-03-01".into());
        f.insert("identifiant_beneficiaire", "IDF-77".into());
    } else {
        f.insert("numero_dossier", "A7250301000002".into());
        f.insert("reference_bc", "2025-Lot08-UO01-01-00002".into());
    }
    f
}

fn settings_for(data: &Path) -> Settings {
    let mut s = Settings {
        data_dir: data.to_path_buf(),
        ..Default::default()
    };
    // The daily jobs whatever the hour of the test; no monthly documents to catch up.
    s.reports.sweep_hour = 0;
    let now = cep_store::models::now_utc();
    s.reports.start = cep_domain::YearMonth::of(cep_domain::paris::date_of(now)).to_string();
    s
}

/// Drops a file into `inbox/L{lot}/`, old enough for the sweep (60 s settling).
fn drop_file(data: &Path, lot: &str, name: &str, content: &[u8]) {
    let dir = data.join("inbox").join(format!("L{lot}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

/// Runs the scheduler's tick now; returns its log.
fn tick(store: &Store, settings: &Settings) -> Vec<String> {
    let runner = Runner::new(store.clone(), settings.clone()).unwrap();
    runner.tick(cep_store::models::now_utc()).unwrap()
}

/// The national ids of the two operator persons, and the lot 08 report's anomaly codes.
fn outcome(store: &Store, data: &Path) -> (Vec<Option<String>>, Vec<String>) {
    let linkage = cep_store::models::link::linkage(&mut store.conn().unwrap()).unwrap();
    let ids = linkage.into_iter().map(|(_, _, n)| n).collect();
    let mut codes = vec![];
    for e in std::fs::read_dir(data.join("outbox/L08")).unwrap() {
        let p = e.unwrap().path();
        if p.to_string_lossy().ends_with(".rapport.json") {
            let r: cep_ingest::ProcessingReport =
                serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            codes.extend(r.anomalies.iter().map(|a| a.code.as_str().to_owned()));
        }
    }
    (ids, codes)
}

fn assert_one_person_and_concurrent_cep(store: &Store, data: &Path, log: &[String]) {
    let (ids, codes) = outcome(store, data);
    assert_eq!(ids.len(), 2, "two operator persons: {ids:?}");
    assert!(ids[0].is_some(), "linked: {ids:?} ({log:?})");
    assert_eq!(ids[0], ids[1], "one national person behind both");
    assert_eq!(codes, ["CONCURRENT_CEP"], "lot 08's report ({log:?})");
    // Billing at a cut-off after both agrees (point 24: the cut-off's answer is authoritative).
    let asof = cep_billing::AsOf::load(
        &mut store.conn().unwrap(),
        cep_store::models::now_utc(),
        Default::default(),
    )
    .unwrap();
    let concurrent: Vec<(&str, bool)> = asof
        .dossiers
        .iter()
        .map(|d| (d.numero.as_str(), d.concurrent))
        .collect();
    assert_eq!(
        concurrent,
        [("IF250301000001", false), ("A7250301000002", true)]
    );
}

#[test]
fn cctp_1_2_4_the_daily_sweep_links_a_person_known_at_two_lots_and_flags_the_concurrent_cep() {
    cep_store::testing::each_backend(|db| {
        let env = Env::new(&db.store); // the registry: operators and orders
        let data = env.dir.path().join("data");
        let settings = settings_for(&data);
        drop_file(
            &data,
            "01",
            "CEP_L01_DOSSIERS_20250311_01.csv",
            &csv(&[person_at("01")]),
        );
        drop_file(
            &data,
            "08",
            "CEP_L08_DOSSIERS_20250311_01.csv",
            &csv(&[person_at("08")]),
        );
        let log = tick(&db.store, &settings);
        assert!(
            log.iter()
                .any(|l| l.starts_with("daily-sweep") && l.contains("2 file(s) processed")),
            "{log:?}"
        );
        assert_one_person_and_concurrent_cep(&db.store, &data, &log);
        // The inbox is empty once the reports are delivered.
        assert!(
            std::fs::read_dir(data.join("inbox/L08"))
                .unwrap()
                .next()
                .is_none()
        );
    });
}

/// A loopback HTTP server standing for lot 08's feed endpoint: the person's fiche on the first
/// page, then an empty page. Checks the bearer token.
fn operator_endpoint(token: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let page = serde_json::json!({"lot": "08", "records": [record(&person_at("08"))]}).to_string();
    let empty = serde_json::json!({"lot": "08", "records": []}).to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some((target, auth)) = http_request::read_request(&stream) else {
                continue;
            };
            let (status, body) = if auth != format!("bearer {}", token.to_ascii_lowercase()) {
                (401, String::new())
            } else if target.contains("since=2019-12-01") {
                (200, page.clone())
            } else {
                (200, empty.clone())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn cctp_1_2_4_the_daily_pull_goes_through_the_same_pipeline_as_the_drop() {
    cep_store::testing::each_backend(|db| {
        let env = Env::new(&db.store);
        let data = env.dir.path().join("data");
        let mut settings = settings_for(&data);
        // The token is read from the environment when the job runs; tests cannot set variables
        // (no `unsafe`), so the job reads one every process has.
        let token = std::env::var("PATH").unwrap();
        let url = operator_endpoint(token);
        settings.pulls = vec![cep_app::settings::PullSettings::new(
            cep_domain::Lot::parse("08").unwrap(),
            url,
            "PATH",
        )];
        drop_file(
            &data,
            "01",
            "CEP_L01_DOSSIERS_20250311_01.csv",
            &csv(&[person_at("01")]),
        );
        let log = tick(&db.store, &settings);
        assert!(
            log.iter()
                .any(|l| l.starts_with("daily-pull") && l.contains("1 accepted")),
            "{log:?}"
        );
        assert_one_person_and_concurrent_cep(&db.store, &data, &log);
    });
}
