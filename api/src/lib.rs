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
pub use routes::check_user;

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
