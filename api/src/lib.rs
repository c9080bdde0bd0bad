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
pub mod problem;
mod routes;

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
    /// Values of stored indicator runs, which never change once stored (point 17).
    pub run_cache: RunCache,
}

/// Stored runs' values kept in memory (at most [`RunCache::CAPACITY`] runs).
#[derive(Debug, Default)]
pub struct RunCache(
    std::sync::Mutex<
        std::collections::HashMap<
            i64,
            std::sync::Arc<Vec<cep_store::models::indicators::IndicatorValueRow>>,
        >,
    >,
);

impl RunCache {
    pub const CAPACITY: usize = 64;

    /// The run's values, read from the store the first time.
    pub fn values(
        &self,
        conn: &mut cep_store::DbConnection,
        run: &cep_store::models::indicators::IndicatorRun,
    ) -> Result<
        std::sync::Arc<Vec<cep_store::models::indicators::IndicatorValueRow>>,
        cep_store::StoreError,
    > {
        if let Some(v) = self.0.lock().expect("cache lock").get(&run.id) {
            return Ok(v.clone());
        }
        let values = std::sync::Arc::new(run.values(conn)?);
        let mut map = self.0.lock().expect("cache lock");
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(run.id, values.clone());
        Ok(values)
    }
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
        roles: &[Analyst, Operator, Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/indicators/runs",
        roles: &[Analyst, Operator, Admin],
    },
    RouteSpec {
        method: "GET",
        path: "/api/v1/reports",
        roles: &[Analyst, Operator, Admin],
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
        ("GET", "/api/v1/admin/users") => "Users",
        ("POST", "/api/v1/admin/users") => "Create a user",
        ("GET", "/api/v1/admin/audit/verify") => "Check the audit log's hash chain",
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
/// within 30 s). Each response carries an `x-request-id`, also in the access log.
pub fn server(
    state: AppState,
    listener: std::net::TcpListener,
    max_body_bytes: usize,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::dev::Service;
    let state = web::Data::new(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(actix_web::middleware::Logger::new(
                "%a \"%r\" %s %b %Dms request-id=%{x-request-id}o",
            ))
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
            .configure(|c| configure(c, max_body_bytes))
    })
    .shutdown_timeout(30)
    .listen(listener)?
    .run())
}
