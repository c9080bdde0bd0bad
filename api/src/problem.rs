//! Errors as RFC 9457 problem details (`application/problem+json`) with real status codes.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// What went wrong, as the client is told.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The caller's role may not call the route at all (problem type `forbidden-role`).
    #[error("forbidden for this role: {0}")]
    RoleForbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("too many attempts: {0}")]
    TooManyRequests(String),
    /// A client over its request rate: try again after this many seconds.
    #[error("rate limit exceeded: retry after {0} s")]
    RateLimited(u64),
    /// The route needs an engine this server was not given.
    #[error("not available on this server: {0}")]
    NotImplemented(String),
    #[error("request body too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<cep_store::StoreError> for ApiError {
    /// The database out of reach is a 503 (the client may retry); anything else a 500.
    fn from(e: cep_store::StoreError) -> Self {
        use cep_store::StoreError as S;
        use diesel::result::{DatabaseErrorKind, Error as D};
        let unreachable = match &e {
            S::Pool(_) | S::Connect { .. } => true,
            S::Query { source, .. } | S::Transaction(source) => matches!(
                source,
                D::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
                    | D::BrokenTransactionManager
            ),
            _ => false,
        };
        tracing::error!(error = %e, "store error");
        if unreachable {
            ApiError::Unavailable("the database is out of reach; retry in a moment".into())
        } else {
            ApiError::Internal("the database could not answer".into())
        }
    }
}

impl From<cep_ingest::IngestError> for ApiError {
    /// A feed the service could not keep (disk full) or a database out of reach is a 503: the
    /// operator sends it again later; nothing of it was recorded.
    fn from(e: cep_ingest::IngestError) -> Self {
        use cep_ingest::IngestError as I;
        match e {
            I::Store(s) => s.into(),
            I::Receiving { .. } => {
                tracing::error!(error = %cep_ingest::pull::error_chain(&e), "receiving a feed");
                ApiError::Unavailable(
                    "the feed could not be stored; nothing of it was recorded, send it again later"
                        .into(),
                )
            }
            I::Io { .. } | I::Identity { .. } | I::DryRunRolledBack => {
                tracing::error!(error = %cep_ingest::pull::error_chain(&e), "processing a feed");
                ApiError::Internal("processing the feed".into())
            }
        }
    }
}

impl From<cep_billing::BillingError> for ApiError {
    fn from(e: cep_billing::BillingError) -> Self {
        match e {
            cep_billing::BillingError::Store(e) => e.into(),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::Internal("a worker failed".into())
    }
}

#[derive(Debug, Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::RoleForbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden-role",
                "Forbidden for this role",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Invalid request"),
            ApiError::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many attempts",
            ),
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            ApiError::NotImplemented(_) => (
                StatusCode::NOT_IMPLEMENTED,
                "not-implemented",
                "Not available on this server",
            ),
            ApiError::PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::RateLimited(s) => {
                format!("too many requests from this client; retry after {s} s")
            }
            ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::RoleForbidden(d)
            | ApiError::NotFound(d)
            | ApiError::BadRequest(d)
            | ApiError::TooManyRequests(d)
            | ApiError::NotImplemented(d)
            | ApiError::PayloadTooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::Unavailable(d)
            | ApiError::Internal(d) => d.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, kind, title) = self.parts();
        let kind = format!("https://cep.francecompetences.fr/problems/{kind}");
        let mut r = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            r.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::RateLimited(seconds) = self {
            r.insert_header(("Retry-After", seconds.to_string()));
        }
        r.content_type("application/problem+json").json(Problem {
            kind: &kind,
            title,
            status: status.as_u16(),
            detail: self.detail(),
        })
    }
}

/// The problem-details body of an error response that is not one yet (an extractor's or the
/// router's own error: a body over the limit, a method not allowed…): its status kept, a title
/// and a detail for people instead of the text the framework wrote.
pub fn as_problem<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header;
    use actix_web::middleware::ErrorHandlerResponse;
    let already = res
        .response()
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if already {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (kind, title) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Request body too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
        s if s.is_server_error() => ("internal", "Internal error"),
        _ => ("bad-request", "Invalid request"),
    };
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => match res
            .request()
            .app_data::<actix_web::web::Data<crate::routes::BodyLimit>>()
        {
            Some(l) => format!("at most {} bytes per request; split the body", l.0),
            None => "the request body is over this server's limit".to_owned(),
        },
        StatusCode::METHOD_NOT_ALLOWED => format!(
            "{} is not a method of {}",
            res.request().method(),
            res.request().path()
        ),
        s => s.canonical_reason().unwrap_or("error").to_owned(),
    };
    let body = serde_json::to_string(&Problem {
        kind: &format!("https://cep.francecompetences.fr/problems/{kind}"),
        title,
        status: status.as_u16(),
        detail,
    })
    .unwrap_or_default();
    let (req, mut response) = res.into_parts();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    let response = response.set_body(body).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, response).map_into_right_body(),
    ))
}
