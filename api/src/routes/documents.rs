//! Committee documents and statements as rendered (PDF), their e-mails, and the scheduler's
//! job runs. An operator reads its own lot's documents only (not the national ones).

use super::*;
use cep_store::models::reports::{DocumentMeta, JobRun, OutboxEmail};

#[derive(Debug, Deserialize)]
pub(super) struct DocumentQuery {
    lot: Option<String>,
    kind: Option<String>,
    period: Option<String>,
    #[serde(flatten)]
    page: Page,
}

fn document_json(d: &DocumentMeta) -> Value {
    json!({
        "id": d.id, "kind": d.kind, "lot": d.lot, "period": d.period,
        "cutoff": utc(d.cutoff), "file_name": d.file_name, "sha256": d.sha256,
        "created_at": utc(d.created_at),
        "download": format!("/api/v1/documents/{}/pdf", d.id),
    })
}

/// May `caller` read a document of `lot`? Operators: their own lot only.
fn may_read(caller: &Caller, lot: Option<&str>) -> bool {
    match caller.role() {
        Role::Operator => lot.is_some() && lot == caller.lot(),
        _ => true,
    }
}

pub(super) async fn documents(
    state: State,
    caller: Caller,
    q: web::Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/documents")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let docs = db(&state, |c| Ok(DocumentMeta::all(c)?)).await?;
    let items = docs
        .iter()
        .filter(|d| may_read(&caller, d.lot.as_deref()))
        .filter(|d| lot.as_deref().is_none_or(|l| d.lot.as_deref() == Some(l)))
        .filter(|d| q.kind.as_deref().is_none_or(|k| d.kind == k))
        .filter(|d| q.period.as_deref().is_none_or(|p| d.period == p))
        .map(document_json)
        .collect();
    q.page.respond(
        "documents",
        items,
        &[
            "id",
            "kind",
            "lot",
            "period",
            "cutoff",
            "file_name",
            "sha256",
            "created_at",
        ],
    )
}

pub(super) async fn document_pdf(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/documents/{id}/pdf")?;
    let id = id.into_inner();
    let (meta, pdf) = db(&state, move |c| Ok(DocumentMeta::get(c, id)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no document {id}")))?;
    if !may_read(&caller, meta.lot.as_deref()) {
        return Err(ApiError::Forbidden(
            "an operator reads its own lot's documents only".into(),
        ));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}\"",
                meta.file_name.replace('"', "")
            ),
        ))
        .body(pdf))
}

/// The e-mail outbox: what was sent, what waits for a retry and why, what was given up.
pub(super) async fn emails(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/emails")?;
    let rows = db(&state, |c| Ok(OutboxEmail::all(c)?)).await?;
    let items = rows
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "document": e.document_id, "recipient": e.recipient,
                "subject": e.subject, "status": e.status, "attempts": e.attempts,
                "next_attempt_at": utc(e.next_attempt_at), "last_error": e.last_error,
                "sent_at": e.sent_at.map(utc), "created_at": utc(e.created_at),
            })
        })
        .collect();
    page.respond(
        "emails",
        items,
        &[
            "id",
            "document",
            "recipient",
            "subject",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
            "created_at",
        ],
    )
}

/// The scheduler's job runs, newest first.
pub(super) async fn jobs(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/jobs")?;
    let mut rows = db(&state, |c| Ok(JobRun::all(c)?)).await?;
    rows.reverse();
    let items = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "job": r.job, "period": r.period, "status": r.status,
                "started_at": utc(r.started_at), "finished_at": r.finished_at.map(utc),
                "detail": r.detail,
            })
        })
        .collect();
    page.respond(
        "jobs",
        items,
        &[
            "id",
            "job",
            "period",
            "status",
            "started_at",
            "finished_at",
            "detail",
        ],
    )
}
