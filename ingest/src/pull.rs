//! The HTTP pull client (spec §1, point 29): `GET {operator_url}/cep/v1/dossiers?since=…` with
//! the lot's bearer token. Each page is received and processed exactly as an API push (one
//! receipt per page); the lot's cursor is saved after each page, so a failed or interrupted
//! pull resumes where it stopped. Transient failures (connection refused or cut, timeout,
//! HTTP 5xx or 429) are retried with exponential backoff.

use crate::file_name::FeedKind;
use crate::pipeline::{Channel, IngestError, Ingestor, Submission};
use crate::report::{ProcessingReport, Status};
use cep_domain::Lot;
use cep_store::StoreError;
use cep_store::models::now_utc;
use cep_store::schema::pull_cursors;
use diesel::prelude::*;
use std::time::Duration;

/// Where and how to pull one lot's feed.
#[derive(Debug, Clone)]
pub struct PullConfig {
    pub lot: Lot,
    /// The operator's base URL; `/cep/v1/dossiers` is appended.
    pub base_url: String,
    pub token: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Attempts per page after the first.
    pub retries: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    /// `since` of the first pull, when the lot has no cursor yet.
    pub initial_since: String,
    /// A guard against an endless `next` chain.
    pub max_pages: usize,
}

impl PullConfig {
    pub fn new(lot: Lot, base_url: impl Into<String>, token: impl Into<String>) -> Self {
        PullConfig {
            lot,
            base_url: base_url.into(),
            token: token.into(),
            timeout: Duration::from_secs(60),
            retries: 4,
            backoff: Duration::from_secs(2),
            initial_since: "2019-12-01T00:00:00Z".into(),
            max_pages: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("pulling lot {lot} from {url}: {attempts} attempt(s) failed, the last with: {last}")]
    Unreachable {
        lot: Lot,
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("pulling lot {lot} from {url}: the operator answered HTTP {status}")]
    Refused { lot: Lot, url: String, status: u16 },
    #[error(
        "pulling lot {lot}: page rejected (see its processing report); the cursor stays at {since}"
    )]
    Rejected {
        lot: Lot,
        since: String,
        report: Box<ProcessingReport>,
    },
    #[error("cannot build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl From<StoreError> for PullError {
    fn from(e: StoreError) -> Self {
        PullError::Ingest(IngestError::Store(e))
    }
}

/// The saved cursor of a lot, if any.
pub fn cursor(ingestor: &Ingestor, lot: Lot) -> Result<Option<String>, PullError> {
    let mut conn = ingestor.store().conn()?;
    pull_cursors::table
        .find(lot.to_string())
        .select(pull_cursors::since)
        .first(&mut conn)
        .optional()
        .map_err(|e| StoreError::query("reading a pull cursor")(e).into())
}

fn save_cursor(ingestor: &Ingestor, lot: Lot, since: &str) -> Result<(), PullError> {
    let mut conn = ingestor.store().conn()?;
    let lot = lot.to_string();
    conn.transaction(|c| {
        diesel::delete(pull_cursors::table.find(&lot)).execute(c)?;
        diesel::insert_into(pull_cursors::table)
            .values((
                pull_cursors::lot.eq(&lot),
                pull_cursors::since.eq(since),
                pull_cursors::updated_at.eq(now_utc()),
            ))
            .execute(c)
    })
    .map(drop)
    .map_err(|e| StoreError::query("saving a pull cursor")(e).into())
}

/// Pulls every page available for the lot; returns their processing reports.
pub fn pull(ingestor: &Ingestor, cfg: &PullConfig) -> Result<Vec<ProcessingReport>, PullError> {
    let client = reqwest::blocking::Client::builder()
        .timeout(cfg.timeout)
        .build()
        .map_err(PullError::Client)?;
    let url = format!("{}/cep/v1/dossiers", cfg.base_url.trim_end_matches('/'));
    let mut since = cursor(ingestor, cfg.lot)?.unwrap_or_else(|| cfg.initial_since.clone());
    let mut reports = vec![];
    for _ in 0..cfg.max_pages {
        let body = fetch(&client, &url, cfg, &since)?;
        let sub = Submission {
            file_name: format!(
                "PULL_L{}_DOSSIERS_{}.json",
                cfg.lot,
                since.replace([':', '/', '+'], "-")
            ),
            lot: cfg.lot,
            channel: Channel::Pull,
            received_at: None,
            json_kind: Some(FeedKind::Dossiers),
        };
        let report = ingestor.ingest_bytes(&body, &sub)?;
        if report.status == Status::Rejected {
            return Err(PullError::Rejected {
                lot: cfg.lot,
                since,
                report: Box::new(report),
            });
        }
        // The next `since`: the server's cursor, else the latest horodatage of the page
        // (compared inclusively: the boundary fiches come again and are no-ops).
        let (next, latest, count) = page_position(&body);
        reports.push(report);
        match (next, latest) {
            (Some(n), _) => {
                save_cursor(ingestor, cfg.lot, &n)?;
                since = n;
            }
            (None, Some(l)) => {
                save_cursor(ingestor, cfg.lot, &l)?;
                break;
            }
            (None, None) => break,
        }
        if count == 0 {
            break;
        }
    }
    Ok(reports)
}

/// One page, with retries on transient failures.
fn fetch(
    client: &reqwest::blocking::Client,
    url: &str,
    cfg: &PullConfig,
    since: &str,
) -> Result<Vec<u8>, PullError> {
    let mut wait = cfg.backoff;
    let mut last = String::new();
    for attempt in 0..=cfg.retries {
        if attempt > 0 {
            tracing::warn!(lot = %cfg.lot, attempt, "pull failed ({last}); retrying in {wait:?}");
            std::thread::sleep(wait);
            wait *= 2;
        }
        let answer = client
            .get(format!("{url}?since={}", percent_encode(since)))
            .bearer_auth(&cfg.token)
            .send()
            .and_then(|r| {
                let status = r.status();
                r.bytes().map(|b| (status, b))
            });
        match answer {
            Ok((status, body)) if status.is_success() => return Ok(body.to_vec()),
            Ok((status, _)) if status.is_server_error() || status.as_u16() == 429 => {
                last = format!("HTTP {status}");
            }
            Ok((status, _)) => {
                return Err(PullError::Refused {
                    lot: cfg.lot,
                    url: url.to_owned(),
                    status: status.as_u16(),
                });
            }
            Err(e) => last = error_chain(&e),
        }
    }
    Err(PullError::Unreachable {
        lot: cfg.lot,
        url: url.to_owned(),
        attempts: cfg.retries + 1,
        last,
    })
}

/// An error and its sources on one line (`a: b: c`), for logs and messages.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// The page's `next` cursor, its latest `horodatage` (as sent), and its record count.
fn page_position(body: &[u8]) -> (Option<String>, Option<String>, usize) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None, 0);
    };
    let next = v.get("next").and_then(|n| n.as_str()).map(str::to_owned);
    let records = v.get("records").and_then(|r| r.as_array());
    let latest = records
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("horodatage")?.as_str())
        .filter_map(|h| Some((crate::values::timestamp(h)?, h)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, h)| h.to_owned());
    (next, latest, records.map_or(0, Vec::len))
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
