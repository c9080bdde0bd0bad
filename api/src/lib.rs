//! The REST API (`cep serve`): how buyer analysts read the figures, how operators push their
//! feeds and read their processing reports, how the médiateur reaches the dossiers behind a
//! complaint (every read in a hash-chained audit log), and how administrators manage users.
//!
//! Every route declares its roles in [`ROUTES`]; handlers check the caller against that table,
//! and a test walks every route with every role. Database work runs on the blocking pool
//! (`web::block`), never on the async workers. Errors are RFC 9457 problem details.
//!
//! This crate reads stored results (indicator runs, processing reports); it does not build
//! Polars or the PDF engine.

pub mod auth;
pub mod cache;
pub mod limit;
pub mod problem;
pub(crate) mod routes;

pub use auth::{Auth, Caller, Role};
pub use problem::ApiError;
pub use routes::{check_password, check_user};

use actix_web::{App, HttpServer, web};
use cep_ingest::Ingestor;
use cep_store::Store;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub ingestor: Ingestor,
    pub auth: Auth,
    /// Failed logins before an account is locked, and for how long.
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
    /// The configuration's billing choices and bonus scheme (billing routes).
    pub billing_rules: cep_domain::billable::BillingRules,
    pub bonus_scheme: cep_billing::bonus::BonusScheme,
    /// Lists the dossiers behind an indicator value (given by the binary, which builds the
    /// indicators engine; without it the drill-down route answers 501).
    pub drill: Option<std::sync::Arc<dyn DrillDowns>>,
    /// Requests per client address.
    pub limiter: limit::RateLimiter,
    /// How long what another process may change is trusted in memory.
    pub ttl: cache::Ttl,
    /// Values of stored indicator runs, which never change once stored (point 17).
    pub run_cache: cache::RunCache,
    pub run_list: cache::RunList,
    pub token_checks: cache::TokenChecks,
    /// Units of the latest billing computation, by cut-off.
    pub units_cache: routes::UnitsCache,
}

impl AppState {
    /// A state with the defaults: no rate limit, 5 s cache, the default billing choices, no
    /// drill-down engine.
    pub fn new(store: Store, ingestor: Ingestor, auth: Auth) -> AppState {
        AppState {
            store,
            ingestor,
            auth,
            max_failed_logins: 5,
            lockout_minutes: 15,
            billing_rules: Default::default(),
            bonus_scheme: Default::default(),
            drill: None,
            limiter: Default::default(),
            ttl: Default::default(),
            run_cache: Default::default(),
            run_list: Default::default(),
            token_checks: Default::default(),
            units_cache: Default::default(),
        }
    }
}

/// What a drill-down found: the items counted, or what the part is when it is read from
/// reference data rather than counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drilled {
    Items(Vec<String>),
    External(String),
}

/// The dossiers (or complaints) behind one value of a stored indicator run. The API does not
/// build the indicators engine (Polars); `cep serve` gives it one.
pub trait DrillDowns: Send + Sync + std::fmt::Debug {
    /// `group`: the lot (or region for 2.x and 3) or `national`; `category` as in the run;
    /// `denominator`: the denominator's items instead of the numerator's. Errors are for the
    /// client (an unknown code, a group not in the run).
    fn drill(
        &self,
        store: &Store,
        run: &cep_store::models::indicators::IndicatorRun,
        code: &str,
        group: &str,
        category: &str,
        denominator: bool,
    ) -> Result<Drilled, String>;
}

/// One route and the roles that may call it (empty: public).
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
}

use Role::{Admin, Analyst, Mediator, Operator};

const ANY: &[Role] = &[Analyst, Operator, Mediator, Admin];
/// Readers of figures: analysts and administrators for every lot, operators for their own.
const READERS: &[Role] = &[Analyst, Operator, Admin];

/// Every route of the API with the roles allowed to call it.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/health",
        roles: &[],
    },
    RouteSpec {
        method: "GET",
        path: "/ready",
        roles: &[],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/login",
        roles: &[],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/auth/revoke",
        roles: ANY,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/me",
        roles: ANY,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/indicators",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/indicators/runs",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/reports",
        roles: READERS,
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/feeds/{kind}",
        roles: &[Operator],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/mediation/cases",
        roles: &[Mediator],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/mediation/cases",
        roles: &[Mediator],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/mediation/cases/{id}/close",
        roles: &[Mediator],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/mediation/cases/{id}/dossiers/{numero}",
        roles: &[Mediator],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/mediation/cases/{id}/dossiers/{numero}/deliverable",
        roles: &[Mediator],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/monitoring/feeds",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/complaints",
        roles: &[Analyst, Operator, Mediator, Admin],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/deliverables/{name}",
        roles: &[Operator],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/deliverables",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/deliverables/{id}/file",
        roles: &[Analyst],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/admin/users",
        roles: &[Admin],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/admin/users",
        roles: &[Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/admin/audit/verify",
        roles: &[Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/indicators/series",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/indicators/drill",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orders",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orders/consumption",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/orders/alerts",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/statements",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/billing/units",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/billing/reconciliation",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/billing/bonuses",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/anomalies",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/identity/events",
        roles: &[Analyst, Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/identity/decisions",
        roles: &[Analyst, Admin],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/identity/decisions",
        roles: &[Analyst],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/admin/users/{username}/disable",
        roles: &[Admin],
    },
    RouteSpec {
        method: "POST",
        path: "/api/v1/admin/imports/{kind}",
        roles: &[Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/populations",
        roles: &[Admin, Analyst],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/billing/bonus-scheme",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/documents",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/documents/{id}/pdf",
        roles: READERS,
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/emails",
        roles: &[Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/jobs",
        roles: &[Analyst, Admin],
    },
];

/// What each route does, for the OpenAPI document.
fn summary(method: &str, path: &str) -> &'static str {
    match (method, path) {
        ("GET", "/health") => "Liveness",
        ("GET", "/ready") => "Readiness: database reachable, migrations applied",
        ("GET", "/api/v1/openapi.json") => "This document",
        ("POST", "/api/v1/auth/login") => "Log in (local issuer): an access token",
        ("POST", "/api/v1/auth/revoke") => "Revoke the token of this request",
        ("GET", "/api/v1/me") => "Who the token is for",
        ("GET", "/api/v1/indicators") => {
            "Values of a stored indicator run (run, period, code, lot)"
        }
        ("GET", "/api/v1/indicators/runs") => "Stored indicator runs",
        ("GET", "/api/v1/reports") => "Processing reports (an operator: its lot, in full)",
        ("GET", "/api/v1/orders") => "Purchase orders as currently recorded",
        ("GET", "/api/v1/orders/alerts") => "Consumption alerts at 80 % and 100 %",
        ("GET", "/api/v1/statements") => "Consumption statements as issued",
        ("GET", "/api/v1/anomalies") => "Anomalies counted by lot, code and severity",
        ("POST", "/api/v1/feeds/{kind}") => "Push a feed (spec §5 JSON, or CSV with ?file_name=)",
        ("GET", "/api/v1/mediation/cases") => "The médiateur's cases",
        ("POST", "/api/v1/mediation/cases") => "Open a mediation case",
        ("POST", "/api/v1/mediation/cases/{id}/close") => "Close a mediation case",
        ("GET", "/api/v1/mediation/cases/{id}/dossiers/{numero}") => {
            "A dossier's full history behind an open case (audited)"
        }
        ("GET", "/api/v1/mediation/cases/{id}/dossiers/{numero}/deliverable") => {
            "The deliverable of a dossier behind an open case (audited, told to the operator)"
        }
        ("GET", "/api/v1/monitoring/feeds") => {
            "A day's feeds per lot: missing, late (after 20:00 Paris) or much smaller than usual"
        }
        ("GET", "/api/v1/complaints") => {
            "Complaints against their 7-day acknowledgment and 45-day answer deadlines, with the cases escalating them, counted per lot"
        }
        ("POST", "/api/v1/deliverables/{name}") => {
            "Push a signed deliverable ({numero_dossier}_{sha256}.pdf or .odt), point 34"
        }
        ("GET", "/api/v1/deliverables") => {
            "Deliverables received, or awaited (state=awaited: declared by a fiche, never received)"
        }
        ("GET", "/api/v1/deliverables/{id}/file") => {
            "A received deliverable's file, for the deliverable controls (8.5; audited)"
        }
        ("GET", "/api/v1/admin/users") => "Users",
        ("POST", "/api/v1/admin/users") => "Create a user",
        ("GET", "/api/v1/admin/audit/verify") => "Check the audit log's hash chain",
        ("GET", "/api/v1/indicators/series") => {
            "A time series of one indicator: the latest run of each period"
        }
        ("GET", "/api/v1/indicators/drill") => {
            "The dossiers behind one value of a stored run (numerator or denominator)"
        }
        ("GET", "/api/v1/orders/consumption") => {
            "Each order's consumption at a cut-off (billable units, share, alert, projected exhaustion)"
        }
        ("GET", "/api/v1/billing/units") => {
            "Closed units at a cut-off with their billing verdict and reasons (filter billable=false for the non-billable)"
        }
        ("GET", "/api/v1/billing/reconciliation") => {
            "Findings of a quarter: operators' statements against the billable units"
        }
        ("GET", "/api/v1/billing/bonuses") => "Quality bonuses of a half-year per lot",
        ("GET", "/api/v1/identity/events") => {
            "Merges and splits of national persons made by the linking runs"
        }
        ("GET", "/api/v1/identity/decisions") => {
            "Analysts' decisions in force on pairs of beneficiaries"
        }
        ("POST", "/api/v1/identity/decisions") => {
            "Record a decision: two beneficiaries are the same person, or are not (applied by the next `cep link`)"
        }
        ("POST", "/api/v1/admin/users/{username}/disable") => {
            "Disable a user: their tokens stop working at once"
        }
        ("POST", "/api/v1/admin/imports/{kind}") => {
            "Import a buyer-side CSV (operators, purchase-orders, surveys, mystery-contacts, deliverable-controls, populations)"
        }
        ("GET", "/api/v1/populations") => "Reference populations as currently recorded",
        ("GET", "/api/v1/billing/bonus-scheme") => {
            "The quality bonus scheme in force (from the configuration)"
        }
        ("GET", "/api/v1/documents") => {
            "Committee documents and statements as rendered (an operator: its lot's)"
        }
        ("GET", "/api/v1/documents/{id}/pdf") => "Download a document (PDF)",
        ("GET", "/api/v1/emails") => {
            "The e-mail outbox: sent, waiting for a retry (with the last error), given up"
        }
        ("GET", "/api/v1/jobs") => "The scheduler's job runs",
        _ => "",
    }
}

/// The OpenAPI 3 document of [`ROUTES`]: paths, methods, path parameters, bearer security
/// and the roles allowed (`x-roles`). Served at `/api/v1/openapi.json`.
pub fn openapi() -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let mut paths = Map::new();
    for r in ROUTES {
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut op = json!({
            "summary": summary(r.method, r.path),
            "x-roles": r.roles.iter().map(|x| x.as_str()).collect::<Vec<_>>(),
            "responses": {
                "200": {"description": "OK"},
                "default": {"description": "Problem details (RFC 9457)", "content": {"application/problem+json": {}}},
            },
        });
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if !r.roles.is_empty() {
            op["security"] = json!([{"bearer": []}]);
        }
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "CEP regulation service", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "paths": paths,
    })
}

/// The roles of `method path` (a [`ROUTES`] entry).
pub fn roles_of(method: &str, path: &str) -> &'static [Role] {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == path)
        .map(|r| r.roles)
        .unwrap_or_else(|| panic!("route {method} {path} is not declared in ROUTES"))
}

/// Checks the caller against the route's declared roles.
pub fn allow(caller: &Caller, method: &str, path: &str) -> Result<(), ApiError> {
    if roles_of(method, path).contains(&caller.role()) {
        Ok(())
    } else {
        Err(ApiError::RoleForbidden(format!(
            "the {} role may not call {method} {path}",
            caller.role().as_str()
        )))
    }
}

/// Registers every route (and the body-size limits) on an app.
pub fn configure(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    routes::configure(cfg, max_body_bytes);
}

/// The HTTP server on `listener`, until SIGINT/SIGTERM (graceful: requests in flight finish
/// within 30 s). Each response carries an `x-request-id`, also in the access log. A client
/// over its rate ([`AppState::limiter`]) gets 429 with `Retry-After`.
pub fn server(
    state: AppState,
    listener: std::net::TcpListener,
    max_body_bytes: usize,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::dev::Service;
    let state = web::Data::new(state);
    Ok(HttpServer::new(move || {
        let limited = state.clone();
        App::new()
            .app_data(state.clone())
            // Per-client rate limit on the API (health and readiness stay free).
            .wrap_fn(move |req, srv| {
                let over = match req.peer_addr() {
                    Some(peer) if req.path().starts_with("/api/") => limited
                        .limiter
                        .take(peer.ip(), std::time::Instant::now())
                        .err(),
                    _ => None,
                };
                use actix_web::ResponseError;
                let outcome = match over {
                    None => Ok(srv.call(req)),
                    Some(s) => Err(req.into_response(ApiError::RateLimited(s).error_response())),
                };
                async move {
                    match outcome {
                        Ok(fut) => fut.await,
                        Err(refused) => Ok(refused),
                    }
                }
            })
            // Every error a problem document, whoever wrote it (extractors, the router).
            .wrap(
                actix_web::middleware::ErrorHandlers::new()
                    .default_handler_client(problem::as_problem)
                    .default_handler_server(problem::as_problem),
            )
            // The request id is set inside the logger, so that its line carries it.
            .wrap_fn(|req, srv| {
                let id = auth::random_hex(8);
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id) {
                        res.headers_mut().insert(
                            actix_web::http::header::HeaderName::from_static("x-request-id"),
                            v,
                        );
                    }
                    Ok(res)
                }
            })
            .wrap(actix_web::middleware::Logger::new(
                "%a \"%r\" %s %b %Dms request-id=%{x-request-id}o",
            ))
            .configure(|c| configure(c, max_body_bytes))
    })
    .shutdown_timeout(30)
    .listen(listener)?
    .run())
}
