//! The handlers, one module per concern. Each checks the caller against [`crate::ROUTES`]
//! first, then runs its database work on the blocking pool. This module holds what they
//! share: the blocking-pool helper, pagination and CSV, the lot scope of operators, audit
//! entries.

mod admin;
mod billing;
mod complaints;
mod deliverables;
mod documents;
mod feeds;
mod identity;
mod indicators;
mod mediation;
mod session;

use admin::*;
pub use admin::{check_password, check_user};
pub use billing::UnitsCache;
use billing::*;
use complaints::*;
use deliverables::*;
use documents::*;
use feeds::*;
use identity::*;
use indicators::*;
use mediation::*;
use session::*;

use crate::auth::{Caller, Role, hash_password, password_matches};
use crate::problem::ApiError;
use crate::{AppState, allow};
use actix_web::{HttpRequest, HttpResponse, web};
use cep_store::models::access::{self, NewAuditEntry, User};
use cep_store::models::indicators::{IndicatorRun, MediationCase, NewMediationCase};
use cep_store::models::now_utc;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

type State = web::Data<AppState>;

/// Registers the routes with one body limit for every extractor (`[api] max_body_bytes`): the
/// raw bodies (`web::Bytes`), the JSON bodies and the streamed feeds. Extractor errors are
/// problem details with a message for people, never the extractor's debug text.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    use actix_web::error::JsonPayloadError;
    let too_large = move || {
        ApiError::PayloadTooLarge(format!(
            "at most {max_body_bytes} bytes per request; split the body"
        ))
    };
    cfg.app_data(web::Data::new(BodyLimit(max_body_bytes)))
        .app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(
            web::JsonConfig::default()
                .limit(max_body_bytes)
                .error_handler(move |e, _| {
                    match e {
                        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType(
                            "this route takes application/json".into(),
                        ),
                        JsonPayloadError::Overflow { .. }
                        | JsonPayloadError::OverflowKnownLength { .. } => too_large(),
                        JsonPayloadError::Deserialize(e) => {
                            ApiError::BadRequest(format!("invalid JSON body: {e}"))
                        }
                        _ => ApiError::BadRequest("the JSON body could not be read".into()),
                    }
                    .into()
                }),
        )
        .app_data(web::QueryConfig::default().error_handler(|e, _| {
            let detail = match e {
                actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
                _ => "unreadable query string".into(),
            };
            ApiError::BadRequest(format!("invalid query: {detail}")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|e, _| {
            let detail = match e {
                actix_web::error::PathError::Deserialize(e) => e.to_string(),
                _ => "unreadable path".into(),
            };
            ApiError::BadRequest(format!("invalid path: {detail}")).into()
        }))
        .route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route(
            "/api/v1/openapi.json",
            web::get().to(|| async { HttpResponse::Ok().json(crate::openapi()) }),
        )
        .service(
            web::scope("/api/v1")
                .route("/auth/login", web::post().to(login))
                .route("/auth/revoke", web::post().to(revoke))
                .route("/me", web::get().to(me))
                .route("/indicators", web::get().to(indicators))
                .route("/indicators/runs", web::get().to(indicator_runs))
                .route("/reports", web::get().to(reports))
                .route("/indicators/series", web::get().to(indicator_series))
                .route("/indicators/drill", web::get().to(indicator_drill))
                .route("/orders", web::get().to(orders))
                .route("/orders/consumption", web::get().to(order_consumption))
                .route("/orders/alerts", web::get().to(order_alerts))
                .route("/statements", web::get().to(statements))
                .route("/billing/units", web::get().to(billing_units))
                .route("/billing/reconciliation", web::get().to(reconciliation))
                .route("/billing/bonuses", web::get().to(bonuses))
                .route("/billing/bonus-scheme", web::get().to(bonus_scheme))
                .route("/anomalies", web::get().to(anomalies))
                .route("/documents", web::get().to(documents))
                .route("/documents/{id}/pdf", web::get().to(document_pdf))
                .route("/emails", web::get().to(emails))
                .route("/jobs", web::get().to(jobs))
                .route("/populations", web::get().to(populations))
                .route("/identity/events", web::get().to(identity_events))
                .route("/identity/decisions", web::get().to(identity_decisions))
                .route("/identity/decisions", web::post().to(decide_identity))
                .route("/feeds/{kind}", web::post().to(feed))
                .route("/mediation/cases", web::get().to(list_cases))
                .route("/mediation/cases", web::post().to(open_case))
                .route("/mediation/cases/{id}/close", web::post().to(close_case))
                .route(
                    "/mediation/cases/{id}/dossiers/{numero}",
                    web::get().to(case_dossier),
                )
                .route(
                    "/mediation/cases/{id}/dossiers/{numero}/deliverable",
                    web::get().to(case_deliverable),
                )
                .route("/complaints", web::get().to(complaints))
                .route("/monitoring/feeds", web::get().to(feed_monitoring))
                .route("/deliverables", web::get().to(list_deliverables))
                .route("/deliverables/{name}", web::post().to(push_deliverable))
                .route("/deliverables/{id}/file", web::get().to(deliverable_file))
                .route("/admin/users", web::get().to(list_users))
                .route("/admin/users", web::post().to(create_user))
                .route(
                    "/admin/users/{username}/disable",
                    web::post().to(disable_user),
                )
                .route("/admin/imports/{kind}", web::post().to(import))
                .route("/admin/audit/verify", web::get().to(verify_audit)),
        )
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such route".into()))
        }));
}

/// `[api] max_body_bytes`, for the handlers that stream their body and for the messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub(crate) usize);

/// The request's media type (`Content-Type` without its parameters), lower case.
fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A JSON body, parsed after the caller's role was checked (a 403 comes before a 400); any
/// other media type than `application/json` is a 415.
fn json_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let media = media_type(req);
    if media != "application/json" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "this route takes application/json, not {}",
            if media.is_empty() {
                "a body without Content-Type"
            } else {
                &media
            }
        )));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// A CSV body: `text/csv` (or `text/plain`, `application/octet-stream`), else a 415.
fn csv_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    match media_type(req).as_str() {
        "text/csv" | "text/plain" | "application/octet-stream" => Ok(()),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "this route takes a CSV file as text/csv, not {}",
            if other.is_empty() {
                "a body without Content-Type"
            } else {
                other
            }
        ))),
    }
}

/// Runs store work on the blocking pool.
async fn db<T: Send + 'static>(
    state: &State,
    f: impl FnOnce(&mut cep_store::DbConnection) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = state.store.clone();
    web::block(move || {
        let mut c = store.conn()?;
        f(&mut c)
    })
    .await?
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready when the database answers and every migration is applied.
async fn ready(state: State) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let pending = web::block(move || store.pending_migrations().map(|p| p.len()))
        .await?
        .map_err(|e| ApiError::Unavailable(format!("database unreachable: {e}")))?;
    if pending > 0 {
        return Err(ApiError::Unavailable(format!(
            "{pending} migration(s) not applied"
        )));
    }
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// Pagination: `limit` (1–1000, default 100) and `offset`, over a stable order.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default, deserialize_with = "number")]
    limit: Option<usize>,
    #[serde(default, deserialize_with = "number")]
    offset: Option<usize>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// A number given as a query string value. Needed because a flattened struct (`Page` inside
/// the other queries) receives every value as a string.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        N(usize),
        S(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::N(n)) => Ok(Some(n)),
        Some(N::S(s)) => s.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!("expected a non-negative integer, got {s:?}"))
        }),
    }
}

impl Page {
    fn apply<T>(&self, items: Vec<T>) -> (usize, Vec<T>) {
        let total = items.len();
        let limit = self.limit.unwrap_or(100).clamp(1, 1000);
        let offset = self.offset.unwrap_or(0);
        (total, items.into_iter().skip(offset).take(limit).collect())
    }

    fn csv(&self) -> Result<bool, ApiError> {
        match self.format.as_deref() {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(f) => Err(ApiError::BadRequest(format!(
                "format must be json or csv, got {f:?}"
            ))),
        }
    }

    /// The page of `items` as JSON (`{"total", name: [...]}`) or CSV (`;`, UTF-8 with BOM,
    /// `columns` in order, CSV-injection safe).
    fn respond(
        &self,
        name: &str,
        items: Vec<Value>,
        columns: &[&str],
    ) -> Result<HttpResponse, ApiError> {
        let csv = self.csv()?;
        let (total, items) = self.apply(items);
        if !csv {
            return Ok(HttpResponse::Ok().json(json!({"total": total, name: items})));
        }
        let mut out = String::from("\u{feff}");
        out.push_str(&columns.join(";"));
        out.push('\n');
        for item in &items {
            let cells: Vec<String> = columns.iter().map(|c| csv_cell(&item[*c])).collect();
            out.push_str(&cells.join(";"));
            out.push('\n');
        }
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("X-Total-Count", total.to_string()))
            .body(out))
    }
}

/// One CSV cell: text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
/// carriage return first) is prefixed with `'`; quoted when it holds `;`, `"` or a newline.
pub fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) => {
            if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        other => other.to_string(),
    };
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// An operator reads only its own lot: a filter on another lot is refused.
fn lot_scope(caller: &Caller, asked: Option<&str>) -> Result<Option<String>, ApiError> {
    if let Some(l) = asked
        && cep_domain::Lot::parse(l).is_err()
        && l != "national"
    {
        return Err(ApiError::BadRequest(format!(
            "lot must be 01…19 or national, got {l:?}"
        )));
    }
    match caller.role() {
        Role::Operator => {
            let own = caller
                .lot()
                .expect("operator tokens carry a lot")
                .to_owned();
            match asked {
                Some(l) if l != own => Err(ApiError::Forbidden(format!(
                    "an operator of lot {own} may not read lot {l}"
                ))),
                _ => Ok(Some(own)),
            }
        }
        _ => Ok(asked.map(str::to_owned)),
    }
}
fn audit(
    caller: &Caller,
    action: &str,
    lot: Option<String>,
    target: Option<String>,
    detail: String,
) -> NewAuditEntry {
    NewAuditEntry {
        at: now_utc(),
        actor: caller.name().to_owned(),
        role: caller.role().as_str().to_owned(),
        action: action.to_owned(),
        lot,
        target,
        detail,
    }
}

/// An RFC 3339 time as stored (UTC, `…Z`).
fn utc(t: chrono::NaiveDateTime) -> String {
    format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

/// A `cutoff` query value (RFC 3339), in UTC; by default the start of the current minute (so
/// that repeated reads share one computation).
fn cutoff_param(cutoff: Option<&str>) -> Result<chrono::NaiveDateTime, ApiError> {
    match cutoff {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| t.naive_utc())
            .map_err(|_| {
                ApiError::BadRequest(format!(
                    "cutoff must be an RFC 3339 time such as 2025-10-01T00:00:00+02:00, got {t:?}"
                ))
            }),
        None => {
            use chrono::Timelike;
            let now = now_utc();
            Ok(now
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .unwrap_or(now))
        }
    }
}

/// A list filtered by lot (an operator: its own), paged.
#[derive(Debug, Deserialize)]
struct LotQuery {
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// A query parameter a route needs (checked after the caller's role, so that a 403 comes
/// before a 400).
fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, ApiError> {
    value.ok_or_else(|| ApiError::BadRequest(format!("the query parameter {name} is required")))
}
