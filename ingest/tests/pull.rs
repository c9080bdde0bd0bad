//! The pull client against a real HTTP server on loopback (spec §1, point 29): pages with a
//! `next` cursor, a server that fails midway (the pull resumes from the saved cursor), and a
//! server that does not answer in time.

mod common;
#[path = "support/http_request.rs"]
mod http_request;

use cep_domain::Lot;
use cep_ingest::pull::{PullConfig, PullError, cursor, pull};
use common::*;
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Requests seen by the server: (request target, authorization header).
type RequestLog = Mutex<Vec<(String, String)>>;

enum Answer {
    Json(String),
    Status(u16),
    Hang(Duration),
}

fn answer(mut stream: std::net::TcpStream, seen: &RequestLog, handler: &dyn Fn(&str) -> Answer) {
    let Some((target, auth)) = http_request::read_request(&stream) else {
        return;
    };
    seen.lock().unwrap().push((target.clone(), auth));
    let (status, body) = match handler(&target) {
        Answer::Json(b) => (200, b),
        Answer::Status(s) => (s, String::new()),
        Answer::Hang(d) => {
            std::thread::sleep(d);
            return;
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (one request per connection). Returns its base URL
/// and the log of (request target, authorization header).
fn serve(handler: impl Fn(&str) -> Answer + Send + Sync + 'static) -> (String, Arc<RequestLog>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(vec![]));
    let seen = log.clone();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (seen, handler) = (seen.clone(), handler.clone());
            // One thread per connection: a hanging answer does not hold the next request.
            std::thread::spawn(move || answer(stream, &seen, &*handler));
        }
    });
    (url, log)
}

fn page(numeros: &[&str], stamp: &str, next: Option<&str>) -> String {
    let records: Vec<_> = numeros
        .iter()
        .map(|n| {
            let mut f = fiche("01");
            f.insert("numero_dossier", (*n).to_owned());
            f.insert("identifiant_beneficiaire", format!("P-{n}"));
            f.insert(
                "reference_bc",
                format!("2025-Lot08-UO01-01-{:05}", n[8..].parse::<u32>().unwrap()),
            );
            f.insert("horodatage", stamp.to_owned());
            record(&f)
        })
        .collect();
    let mut v = serde_json::json!({"lot": "08", "records": records});
    if let Some(n) = next {
        v["next"] = n.into();
    }
    v.to_string()
}

fn config(url: &str) -> PullConfig {
    let mut c = PullConfig::new(Lot::parse("08").unwrap(), url, "secret-08");
    c.backoff = Duration::from_millis(10);
    c.retries = 2;
    c.timeout = Duration::from_secs(5);
    c
}

/// The decoded `since` of a request target.
fn since_of(target: &str) -> String {
    let raw = target.split("since=").nth(1).unwrap_or_default();
    let mut out = vec![];
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&raw[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn pages_are_followed_and_a_failed_pull_resumes_from_its_cursor() {
    on_each(|env| {
        let healthy = Arc::new(Mutex::new(false));
        let h = healthy.clone();
        let (url, log) = serve(move |target| {
            let since = since_of(target);
            if !target.starts_with("/cep/v1/dossiers?") {
                Answer::Status(404)
            } else if since.starts_with("2019-12-01") {
                Answer::Json(page(
                    &["A7250301000001", "A7250301000002"],
                    "2025-03-11T18:00:00+01:00",
                    Some("page-2"),
                ))
            } else if since == "page-2" && !*h.lock().unwrap() {
                Answer::Status(503)
            } else if since == "page-2" {
                Answer::Json(page(&["A7250301000003"], "2025-03-11T19:00:00+01:00", None))
            } else {
                Answer::Json(r#"{"lot": "08", "records": []}"#.into())
            }
        });
        let cfg = config(&url);
        // Page 1 is applied, page 2 fails on every attempt: the cursor stays on page 2.
        match pull(&env.ingestor, &cfg) {
            Err(PullError::Unreachable { attempts, last, .. }) => {
                assert_eq!(attempts, 3);
                assert!(last.contains("503"), "{last}");
            }
            other => panic!("expected the pull to fail, got {other:?}"),
        }
        assert_eq!(
            cursor(&env.ingestor, cfg.lot).unwrap().as_deref(),
            Some("page-2")
        );
        assert!(
            log.lock()
                .unwrap()
                .iter()
                .all(|(_, auth)| auth == "bearer secret-08")
        );

        // The server recovers: the next pull starts from the cursor, not from the beginning.
        *healthy.lock().unwrap() = true;
        let before = log.lock().unwrap().len();
        let reports = pull(&env.ingestor, &cfg).unwrap();
        assert_eq!(
            reports.iter().map(|r| r.accepted).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(since_of(&log.lock().unwrap()[before].0), "page-2");
        let saved = cursor(&env.ingestor, cfg.lot).unwrap().unwrap();
        assert_eq!(saved, "2025-03-11T19:00:00+01:00");
        let mut c = env.store.conn().unwrap();
        use diesel::prelude::*;
        let fiches: i64 = cep_store::schema::fiches::table
            .count()
            .get_result(&mut c)
            .unwrap();
        assert_eq!(fiches, 3);
    });
}

#[test]
fn a_server_that_does_not_answer_in_time_is_retried_then_reported() {
    on_each(|env| {
        let (url, log) = serve(|_| Answer::Hang(Duration::from_secs(3)));
        let mut cfg = config(&url);
        cfg.timeout = Duration::from_millis(300);
        cfg.retries = 1;
        match pull(&env.ingestor, &cfg) {
            Err(PullError::Unreachable {
                attempts: 2, last, ..
            }) => {
                assert!(last.to_lowercase().contains("time"), "{last}")
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert_eq!(log.lock().unwrap().len(), 2);
        assert_eq!(cursor(&env.ingestor, cfg.lot).unwrap(), None);
    });
}
