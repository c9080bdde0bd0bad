//! The handlers. Each checks the caller against [`crate::ROUTES`] first, then runs its
//! database work on the blocking pool.

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

pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(web::Data::new(BodyLimit(max_body_bytes)))
        .app_data(
            web::JsonConfig::default()
                .limit(64 * 1024)
                .error_handler(|e, _| {
                    ApiError::BadRequest(format!("invalid JSON body: {e}")).into()
                }),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::BadRequest(format!("invalid query: {e}")).into()),
        )
        .app_data(
            web::PathConfig::default()
                .error_handler(|e, _| ApiError::BadRequest(format!("invalid path: {e}")).into()),
        )
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
                .route("/orders", web::get().to(orders))
                .route("/orders/alerts", web::get().to(order_alerts))
                .route("/statements", web::get().to(statements))
                .route("/anomalies", web::get().to(anomalies))
                .route("/feeds/{kind}", web::post().to(feed))
                .route("/mediation/cases", web::get().to(list_cases))
                .route("/mediation/cases", web::post().to(open_case))
                .route("/mediation/cases/{id}/close", web::post().to(close_case))
                .route(
                    "/mediation/cases/{id}/dossiers/{numero}",
                    web::get().to(case_dossier),
                )
                .route("/admin/users", web::get().to(list_users))
                .route("/admin/users", web::post().to(create_user))
                .route("/admin/audit/verify", web::get().to(verify_audit)),
        )
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(ApiError::NotFound("no such route".into()))
        }));
}

#[derive(Debug, Clone, Copy)]
struct BodyLimit(usize);

/// A JSON body, parsed after the caller's role was checked (a 403 comes before a 400).
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
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

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// Local issuer: checks the password (Argon2), locks the account after repeated failures.
async fn login(state: State, body: web::Json<Login>) -> Result<HttpResponse, ApiError> {
    let Login { username, password } = body.into_inner();
    let (max, minutes) = (state.max_failed_logins, state.lockout_minutes);
    let user = db(&state, move |c| {
        let Some(user) = User::by_name(c, &username)? else {
            return Ok(None);
        };
        let now = now_utc();
        if user.locked_until.is_some_and(|t| t > now) {
            return Err(ApiError::TooManyRequests(format!(
                "account locked after repeated failures until {} UTC",
                user.locked_until.expect("checked").format("%Y-%m-%d %H:%M")
            )));
        }
        let ok = !user.disabled
            && user
                .password_hash
                .as_deref()
                .is_some_and(|h| password_matches(&password, h));
        User::record_login(
            c,
            user.id,
            ok,
            max,
            now + chrono::Duration::minutes(minutes),
        )?;
        Ok(ok.then_some(user))
    })
    .await?;
    let user =
        user.ok_or_else(|| ApiError::Unauthorized("unknown user or wrong password".into()))?;
    let role = Role::parse(&user.role).ok_or_else(|| {
        ApiError::Internal(format!("user {} has role {:?}", user.username, user.role))
    })?;
    let (token, claims) = state.auth.issue(&user.username, role, user.lot.clone())?;
    Ok(HttpResponse::Ok().json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": claims.exp - claims.iat,
    })))
}

async fn revoke(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/auth/revoke")?;
    let jti = caller.claims.jti.clone();
    let exp = chrono::DateTime::from_timestamp(caller.claims.exp as i64, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_else(now_utc);
    db(&state, move |c| Ok(access::revoke_token(c, &jti, exp)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn me(caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/me")?;
    Ok(HttpResponse::Ok().json(json!({
        "username": caller.name(),
        "role": caller.role(),
        "lot": caller.lot(),
    })))
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

#[derive(Debug, Deserialize)]
struct IndicatorQuery {
    run: Option<i64>,
    period: Option<String>,
    code: Option<String>,
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

fn run_json(r: &IndicatorRun) -> Value {
    json!({
        "id": r.id,
        "period": r.period,
        "cutoff": format!("{}Z", r.cutoff.format("%Y-%m-%dT%H:%M:%S")),
        "computed_at": format!("{}Z", r.computed_at.format("%Y-%m-%dT%H:%M:%S")),
        "code_version": r.code_version,
    })
}

/// A stored indicator run's values (the latest run of the period unless `run` is given),
/// filtered by code and lot, in (code, lot, category) order.
async fn indicators(
    state: State,
    caller: Caller,
    q: web::Query<IndicatorQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let cache = state.clone();
    let (run, values) = db(&state, move |c| {
        let runs = IndicatorRun::all(c)?;
        let run = match (q.run, &q.period) {
            (Some(id), _) => runs.into_iter().find(|r| r.id == id),
            (None, Some(p)) => runs.into_iter().find(|r| &r.period == p),
            (None, None) => runs.into_iter().next(),
        }
        .ok_or_else(|| ApiError::NotFound("no such indicator run".into()))?;
        let values = cache.run_cache.values(c, &run)?;
        Ok((run, values))
    })
    .await?;
    let values: Vec<Value> = values
        .iter()
        .filter(|v| q.code.as_deref().is_none_or(|c| v.code == c))
        .filter(|v| lot.as_deref().is_none_or(|l| v.lot == l))
        .map(|v| {
            json!({
                "code": v.code, "lot": v.lot, "category": v.category,
                "numerator": v.numerator, "denominator": v.denominator, "value": v.value,
                "median": v.median, "mean": v.mean, "wilson_lower": v.wilson_lower,
            })
        })
        .collect();
    if q.page.csv()? {
        return q.page.respond(
            "values",
            values,
            &[
                "code",
                "lot",
                "category",
                "numerator",
                "denominator",
                "value",
                "median",
                "mean",
                "wilson_lower",
            ],
        );
    }
    let (total, values) = q.page.apply(values);
    Ok(HttpResponse::Ok().json(json!({"run": run_json(&run), "total": total, "values": values})))
}

async fn indicator_runs(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators/runs")?;
    let runs = db(&state, |c| Ok(IndicatorRun::all(c)?)).await?;
    page.respond(
        "runs",
        runs.iter().map(run_json).collect(),
        &["id", "period", "cutoff", "computed_at", "code_version"],
    )
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Processing reports, newest first. Analysts and administrators get the counts only (an
/// anomaly's message may quote a personal value); an operator gets its own lot's reports in
/// full.
async fn reports(
    state: State,
    caller: Caller,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/reports")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let full = caller.role() == Role::Operator;
    let rows = db(&state, move |c| {
        Ok(cep_store::models::ingest::ProcessingReportRow::list(
            c,
            lot.as_deref(),
        )?)
    })
    .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let report: Value = serde_json::from_str(&r.report_json).unwrap_or(Value::Null);
            if full {
                report
            } else {
                json!({
                    "file": r.file_name, "lot": r.lot, "status": r.status,
                    "sha256": report["sha256"],
                    "created_at": format!("{}Z", r.created_at.format("%Y-%m-%dT%H:%M:%S")),
                    "lines": report["lines"], "accepted": report["accepted"],
                    "quarantined": report["quarantined"], "warnings": report["warnings"],
                })
            }
        })
        .collect();
    q.page.respond(
        "reports",
        items,
        &[
            "file",
            "lot",
            "status",
            "created_at",
            "lines",
            "accepted",
            "quarantined",
            "warnings",
        ],
    )
}

#[derive(Debug, Deserialize)]
struct FeedQuery {
    /// For CSV bodies: the feed file name (`CEP_L{ll}_{KIND}_{AAAAMMJJ}_{nn}.csv`).
    file_name: Option<String>,
}

/// An operator pushes a feed (spec §5): JSON (`application/json`) or CSV (`text/csv` with
/// `?file_name=`), for its own lot; the answer is the processing report.
async fn feed(
    state: State,
    caller: Caller,
    req: HttpRequest,
    kind: web::Path<String>,
    q: web::Query<FeedQuery>,
    limit: web::Data<BodyLimit>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/feeds/{kind}")?;
    let kind = cep_ingest::FeedKind::parse(&kind.to_uppercase()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no feed kind {kind:?} (dossiers, reclamations, moyens)"
        ))
    })?;
    let lot = cep_domain::Lot::parse(caller.lot().expect("operator"))
        .map_err(|_| ApiError::Forbidden("the token's lot is not a lot".into()))?;
    let content_type = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = content_type.starts_with("application/json");
    if !json && !content_type.starts_with("text/csv") {
        return Err(ApiError::BadRequest(
            "Content-Type must be application/json or text/csv".into(),
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit.0 {
            return Err(ApiError::PayloadTooLarge(format!(
                "at most {} bytes per request; split the feed",
                limit.0
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let file_name = if json {
        format!(
            "api_L{lot}_{}_{}.json",
            kind.as_str(),
            crate::auth::random_hex(6)
        )
    } else {
        let name = q.into_inner().file_name.ok_or_else(|| {
            ApiError::BadRequest(
                "a CSV body needs ?file_name=CEP_L{ll}_{KIND}_{AAAAMMJJ}_{nn}.csv".into(),
            )
        })?;
        if name.contains('/') || name.contains('\\') || name.contains("..") {
            return Err(ApiError::BadRequest(
                "file_name must be a bare file name".into(),
            ));
        }
        name
    };
    let sub = cep_ingest::Submission {
        file_name,
        lot,
        channel: cep_ingest::Channel::Api,
        received_at: None,
        json_kind: json.then_some(kind),
    };
    let state2 = state.clone();
    let report = web::block(move || state2.ingestor.ingest_bytes(&body, &sub))
        .await?
        .map_err(|e| ApiError::Internal(format!("processing the feed: {e}")))?;
    Ok(HttpResponse::Ok().json(report))
}

fn case_json(c: &MediationCase) -> Value {
    json!({
        "id": c.id, "lot": c.lot, "numero_dossier": c.numero_dossier,
        "identifiant_beneficiaire": c.identifiant_beneficiaire,
        "complaint_reference": c.complaint_reference, "mediator": c.mediator,
        "opened_at": format!("{}Z", c.opened_at.format("%Y-%m-%dT%H:%M:%S")),
        "closed_at": c.closed_at.map(|t| format!("{}Z", t.format("%Y-%m-%dT%H:%M:%S"))),
    })
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

/// The médiateur's own cases, newest first.
async fn list_cases(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/mediation/cases")?;
    let me = caller.name().to_owned();
    let cases = db(&state, |c| Ok(MediationCase::all(c)?)).await?;
    let items: Vec<Value> = cases
        .iter()
        .filter(|c| c.mediator == me)
        .map(case_json)
        .collect();
    page.respond(
        "cases",
        items,
        &[
            "id",
            "lot",
            "numero_dossier",
            "identifiant_beneficiaire",
            "complaint_reference",
            "mediator",
            "opened_at",
            "closed_at",
        ],
    )
}

#[derive(Debug, Deserialize)]
struct OpenCase {
    lot: String,
    numero_dossier: Option<String>,
    identifiant_beneficiaire: Option<String>,
    complaint_reference: String,
}

async fn open_case(
    state: State,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/mediation/cases")?;
    let b: OpenCase = json_body(&body)?;
    cep_domain::Lot::parse(&b.lot)
        .map_err(|_| ApiError::BadRequest(format!("lot must be 01…19, got {:?}", b.lot)))?;
    if b.numero_dossier.is_none() && b.identifiant_beneficiaire.is_none() {
        return Err(ApiError::BadRequest(
            "a case names a dossier (numero_dossier) or a person (identifiant_beneficiaire)".into(),
        ));
    }
    if b.complaint_reference.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "complaint_reference is required".into(),
        ));
    }
    let new = NewMediationCase {
        lot: b.lot,
        numero_dossier: b.numero_dossier,
        identifiant_beneficiaire: b.identifiant_beneficiaire,
        complaint_reference: b.complaint_reference,
        mediator: caller.name().to_owned(),
        opened_at: now_utc(),
    };
    let entry = audit(
        &caller,
        "case_opened",
        Some(new.lot.clone()),
        None,
        new.complaint_reference.clone(),
    );
    let case = db(&state, move |c| {
        let id = new.open(c)?;
        NewAuditEntry {
            target: Some(id.to_string()),
            ..entry
        }
        .append(c)?;
        Ok(MediationCase::get(c, id)?.expect("just opened"))
    })
    .await?;
    Ok(HttpResponse::Created().json(case_json(&case)))
}

async fn close_case(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/mediation/cases/{id}/close")?;
    let id = id.into_inner();
    let me = caller.name().to_owned();
    let entry = audit(
        &caller,
        "case_closed",
        None,
        Some(id.to_string()),
        String::new(),
    );
    let case = db(&state, move |c| {
        let case = MediationCase::get(c, id)?
            .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
        if case.mediator != me {
            return Err(ApiError::Forbidden(
                "this case is assigned to another médiateur".into(),
            ));
        }
        if !MediationCase::close(c, id, now_utc())? {
            return Err(ApiError::BadRequest(format!("case {id} is already closed")));
        }
        NewAuditEntry {
            lot: Some(case.lot.clone()),
            ..entry
        }
        .append(c)?;
        Ok(MediationCase::get(c, id)?.expect("exists"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(case_json(&case)))
}

/// The full history of a dossier behind an open case assigned to this médiateur, personal
/// data included. Every read, and every refused attempt, is written to the audit log; reads
/// are reported to the operator in its next processing report (Annex 2 §3).
async fn case_dossier(
    state: State,
    caller: Caller,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    allow(
        &caller,
        "GET",
        "/api/v1/mediation/cases/{id}/dossiers/{numero}",
    )?;
    let (id, numero) = path.into_inner();
    let me = caller.name().to_owned();
    let granted = audit(
        &caller,
        cep_ingest::pipeline::DOSSIER_ACCESS,
        None,
        Some(numero.clone()),
        format!("case {id}"),
    );
    let refused = audit(
        &caller,
        "dossier_access_refused",
        None,
        Some(numero.clone()),
        format!("case {id}"),
    );
    let out = db(&state, move |c| {
        let case = MediationCase::get(c, id)?;
        let dossier =
            cep_store::models::ingest::dossiers_by_numero(c, std::slice::from_ref(&numero))?
                .into_iter()
                .next();
        let why_not = match (&case, &dossier) {
            (None, _) => Some(format!("no case {id}")),
            (Some(k), _) if k.mediator != me => {
                Some("the case is assigned to another médiateur".into())
            }
            (Some(k), _) if k.closed_at.is_some() => Some("the case is closed".into()),
            (_, None) => Some("no such dossier behind this case".into()),
            (Some(k), Some(d)) => {
                let behind = k.lot == d.lot
                    && (k.numero_dossier.as_deref() == Some(d.numero_dossier.as_str())
                        || k.identifiant_beneficiaire.as_deref()
                            == Some(d.identifiant_beneficiaire.as_str()));
                (!behind).then(|| "no such dossier behind this case".into())
            }
        };
        if let Some(reason) = why_not {
            NewAuditEntry {
                lot: case.as_ref().map(|k| k.lot.clone()),
                detail: format!("{}: {reason}", refused.detail),
                ..refused
            }
            .append(c)?;
            return Ok(Err(reason));
        }
        let d = dossier.expect("checked");
        NewAuditEntry {
            lot: Some(d.lot.clone()),
            ..granted
        }
        .append(c)?;
        let fiches = cep_store::models::dossiers::Fiche::history(c, &d.numero_dossier)?;
        let identities =
            cep_store::models::dossiers::IdentityRecord::of_person(c, d.operator_person_id)?;
        Ok(Ok((d, fiches, identities)))
    })
    .await?;
    let (d, fiches, identities) = out.map_err(ApiError::Forbidden)?;
    let identity_of = |id: Option<i64>| identities.iter().find(|i| Some(i.id) == id);
    let fiches: Vec<Value> = fiches
        .iter()
        .map(|f| {
            let i = identity_of(f.identity_record_id);
            json!({
                "horodatage": f.horodatage,
                "received_at": format!("{}Z", f.received_at.format("%Y-%m-%dT%H:%M:%S")),
                "uo": f.uo, "statut": f.statut,
                "date_engagement": f.date_engagement, "date_cloture": f.date_cloture,
                "motif_cloture": f.motif_cloture, "reference_bc": f.reference_bc,
                "date_demande_rdv": f.date_demande_rdv, "dates_interactions": f.dates_interactions,
                "types_service": f.types_service,
                "prestations_complementaires": f.prestations_complementaires,
                "identity": i.map(|i| json!({
                    "nom": i.nom, "nom_usage": i.nom_usage, "prenom": i.prenom, "sexe": i.sexe,
                    "date_naissance": i.date_naissance, "nir": i.nir,
                    "adresse": [i.adresse_numero.as_deref(), i.adresse_type_voie.as_deref(), i.adresse_voie.as_deref(), i.adresse_code_postal.as_deref(), i.adresse_commune.as_deref()],
                    "email": i.email, "telephone": i.telephone,
                })),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "numero_dossier": d.numero_dossier, "lot": d.lot, "uo": d.uo,
        "identifiant_beneficiaire": d.identifiant_beneficiaire, "fiches": fiches,
    })))
}

async fn list_users(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/admin/users")?;
    let users = db(&state, |c| Ok(User::all(c)?)).await?;
    let users: Vec<Value> = users
        .iter()
        .map(|u| json!({"username": u.username, "role": u.role, "lot": u.lot, "disabled": u.disabled}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"users": users})))
}

#[derive(Debug, Deserialize)]
struct CreateUser {
    username: String,
    role: String,
    lot: Option<String>,
    password: String,
}

async fn create_user(
    state: State,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/admin/users")?;
    let b: CreateUser = json_body(&body)?;
    let role = Role::parse(&b.role).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "role must be analyst, operator, mediator or admin, got {:?}",
            b.role
        ))
    })?;
    check_user(&b.username, role, b.lot.as_deref(), &b.password).map_err(ApiError::BadRequest)?;
    let entry = audit(
        &caller,
        "user_created",
        b.lot.clone(),
        Some(b.username.clone()),
        b.role.clone(),
    );
    let created = db(&state, move |c| {
        if User::by_name(c, &b.username)?.is_some() {
            return Err(ApiError::BadRequest(format!(
                "user {} already exists",
                b.username
            )));
        }
        let hash = web_hash(&b.password)?;
        access::NewUser {
            username: &b.username,
            role: role.as_str(),
            lot: b.lot.as_deref(),
            password_hash: Some(&hash),
            disabled: false,
            created_at: now_utc(),
        }
        .insert(c)?;
        entry.append(c)?;
        Ok(json!({"username": b.username, "role": role, "lot": b.lot}))
    })
    .await?;
    Ok(HttpResponse::Created().json(created))
}

fn web_hash(password: &str) -> Result<String, ApiError> {
    hash_password(password).map_err(ApiError::Internal)
}

/// The password rule (shared with `cep user add` and `cep user reset`).
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("password: at least 12 characters".into());
    }
    Ok(())
}

/// The rules a new user must satisfy (shared with `cep user add`).
pub fn check_user(
    username: &str,
    role: Role,
    lot: Option<&str>,
    password: &str,
) -> Result<(), String> {
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        return Err("username: 1 to 64 characters among letters, digits and . _ - @".into());
    }
    check_password(password)?;
    match (role, lot) {
        (Role::Operator, Some(l)) if cep_domain::Lot::parse(l).is_ok() => Ok(()),
        (Role::Operator, _) => Err("an operator needs its lot (01…19)".into()),
        (_, Some(_)) => Err("only operators are bound to a lot".into()),
        _ => Ok(()),
    }
}

async fn verify_audit(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/admin/audit/verify")?;
    let r = db(&state, |c| Ok(access::verify_audit(c)?)).await?;
    Ok(HttpResponse::Ok().json(match r {
        Ok(n) => json!({"intact": true, "entries": n}),
        Err(b) => json!({"intact": false, "broken_at": b.id, "reason": b.reason}),
    }))
}

#[derive(Debug, Deserialize)]
struct LotQuery {
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// The lot named in a purchase-order reference or a statement number (`…-Lot08-…`).
fn lot_in(reference: &str) -> Option<&str> {
    let i = reference.find("-Lot")? + 4;
    reference.get(i..i + 2)
}

/// Purchase orders as currently recorded.
async fn orders(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/orders")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let orders = db(&state, |c| {
        Ok(cep_store::models::buyer::PurchaseOrder::all_current(c)?)
    })
    .await?;
    let items = orders
        .iter()
        .filter(|o| lot.as_deref().is_none_or(|l| o.lot == l))
        .map(|o| {
            json!({
                "reference": o.reference, "lot": o.lot, "uo": o.uo,
                "date_notification": o.date_notification, "quantite": o.quantite,
                "prix_unitaire_ht_cents": o.prix_unitaire_ht_cents, "taux_tva_bp": o.taux_tva_bp,
                "date_debut": o.date_debut, "date_fin": o.date_fin,
            })
        })
        .collect();
    q.page.respond(
        "orders",
        items,
        &[
            "reference",
            "lot",
            "uo",
            "date_notification",
            "quantite",
            "prix_unitaire_ht_cents",
            "taux_tva_bp",
            "date_debut",
            "date_fin",
        ],
    )
}

/// Consumption alerts (80 % and 100 % of an order's quantity), oldest first.
async fn order_alerts(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/orders/alerts")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let alerts = db(&state, |c| {
        Ok(cep_store::models::buyer::OrderAlert::all(c)?)
    })
    .await?;
    let items = alerts
        .iter()
        .filter(|a| {
            lot.as_deref()
                .is_none_or(|l| lot_in(&a.order_reference) == Some(l))
        })
        .map(|a| {
            json!({
                "order": a.order_reference, "level": a.level, "consumed": a.consumed,
                "quantity": a.quantity,
                "cutoff": format!("{}Z", a.cutoff.format("%Y-%m-%dT%H:%M:%S")),
            })
        })
        .collect();
    q.page.respond(
        "alerts",
        items,
        &["order", "level", "consumed", "quantity", "cutoff"],
    )
}

/// Consumption statements as issued (with their body as JSON).
async fn statements(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/statements")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let rows = db(&state, |c| {
        Ok(cep_store::models::buyer::StoredStatement::all(c)?)
    })
    .await?;
    let csv = q.page.csv()?;
    let items = rows
        .iter()
        .filter(|s| lot.as_deref().is_none_or(|l| lot_in(&s.number) == Some(l)))
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body_json).unwrap_or(Value::Null);
            let mut v = json!({
                "number": s.number, "lot": lot_in(&s.number),
                "cutoff": format!("{}Z", s.cutoff.format("%Y-%m-%dT%H:%M:%S")),
            });
            if !csv {
                v["statement"] = body;
            }
            v
        })
        .collect();
    q.page
        .respond("statements", items, &["number", "lot", "cutoff"])
}

/// Anomalies counted by lot, code and severity.
async fn anomalies(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/anomalies")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let rows = db(&state, |c| Ok(access::AnomalyCount::all(c)?)).await?;
    let items = rows
        .iter()
        .filter(|a| lot.as_deref().is_none_or(|l| a.lot.as_deref() == Some(l)))
        .map(|a| json!({"lot": a.lot, "code": a.code, "severity": a.severity, "count": a.count}))
        .collect();
    q.page
        .respond("anomalies", items, &["lot", "code", "severity", "count"])
}
