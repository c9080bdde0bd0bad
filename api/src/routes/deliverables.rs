//! Deliverables (livrables, feed spec point 34): operators push them, analysts list the ones
//! received and the ones awaited (declared by a fiche, never received) and read a file for
//! the deliverable controls (8.5), the médiateur reads the one behind a case. Every read of a
//! file is audited; a médiateur's reaches the operator in its next processing report.

use super::*;
use cep_ingest::deliverable::DeliverableStatus;
use cep_store::models::deliverables::{Deliverable, awaited};

/// The media types a deliverable may be pushed as.
fn deliverable_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    match media_type(req).as_str() {
        "application/pdf"
        | "application/vnd.oasis.opendocument.text"
        | "application/octet-stream" => Ok(()),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "a deliverable is sent as application/pdf or application/vnd.oasis.opendocument.text, not {}",
            if other.is_empty() {
                "a body without Content-Type"
            } else {
                other
            }
        ))),
    }
}

/// An operator pushes one deliverable of its lot, named as in the inbox
/// (`{numero_dossier}_{sha256}.pdf|.odt`); the answer is its report: 201 when kept, 200 when
/// the lot had already sent this content, 422 (a problem carrying the report) when refused.
pub(super) async fn push_deliverable(
    state: State,
    caller: Caller,
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/deliverables/{name}")?;
    deliverable_content_type(&req)?;
    let name = name.into_inner();
    if name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Err(ApiError::BadRequest(
            "the deliverable's name must be a bare file name".into(),
        ));
    }
    let lot = cep_domain::Lot::parse(caller.lot().expect("operator"))
        .map_err(|_| ApiError::Forbidden("the token's lot is not a lot".into()))?;
    let state2 = state.clone();
    let report = web::block(move || {
        state2
            .ingestor
            .receive_deliverable(lot, &name, &body, cep_ingest::Channel::Api)
    })
    .await??;
    Ok(match report.status {
        DeliverableStatus::Rejected => HttpResponse::UnprocessableEntity()
            .content_type("application/problem+json")
            .json(json!({
                "type": "https://cep.francecompetences.fr/problems/deliverable-rejected",
                "title": "Deliverable refused, nothing kept",
                "status": 422,
                "detail": report.message,
                "report": report,
            })),
        DeliverableStatus::Duplicate => HttpResponse::Ok().json(report),
        DeliverableStatus::Matched | DeliverableStatus::Unmatched => {
            HttpResponse::Created().json(report)
        }
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct DeliverablesQuery {
    lot: Option<String>,
    /// `received` (default) or `awaited`.
    state: Option<String>,
}

/// The deliverables received (newest first), or awaited: declared by a dossier's current fiche
/// (`livrable_sha256`) and never received, `late` seven days after the declaration.
pub(super) async fn list_deliverables(
    state: State,
    caller: Caller,
    q: web::Query<DeliverablesQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/deliverables")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?.filter(|l| l != "national");
    let which = q.state.unwrap_or_else(|| "received".into());
    let items: Vec<Value> = match which.as_str() {
        "received" => {
            let (rows, matched) = db(&state, move |c| {
                Ok((
                    Deliverable::list(c, lot.as_deref())?,
                    cep_store::models::deliverables::matched_ids(c, lot.as_deref())?,
                ))
            })
            .await?;
            rows.iter()
                .map(|d| {
                    let m = matched.contains(&d.id);
                    json!({
                        "id": d.id, "lot": d.lot, "numero_dossier": d.numero_dossier,
                        "sha256": d.sha256, "format": d.format, "file_name": d.file_name,
                        "size_bytes": d.size_bytes, "channel": d.channel,
                        "received_at": utc(d.received_at), "matched": m,
                    })
                })
                .collect()
        }
        "awaited" => {
            let now = now_utc();
            let rows = db(&state, move |c| Ok(awaited(c, lot.as_deref())?)).await?;
            rows.iter()
                .map(|a| {
                    json!({
                        "lot": a.lot, "numero_dossier": a.numero_dossier, "uo": a.uo,
                        "sha256": a.sha256, "date_cloture": a.date_cloture,
                        "declared_at": utc(a.declared_at),
                        "late": cep_domain::deliverable::is_late(a.declared_at, now),
                    })
                })
                .collect()
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "state must be received or awaited, got {other:?}"
            )));
        }
    };
    Ok(HttpResponse::Ok().json(json!({ "state": which, "items": items })))
}

/// The archived file, as it was received.
fn file_response(d: &Deliverable) -> Result<HttpResponse, ApiError> {
    let bytes = std::fs::read(&d.archive_path).map_err(|e| {
        ApiError::Internal(format!(
            "the archived deliverable {} cannot be read: {e}",
            d.file_name
        ))
    })?;
    let media = if d.format == "odt" {
        "application/vnd.oasis.opendocument.text"
    } else {
        "application/pdf"
    };
    Ok(HttpResponse::Ok()
        .content_type(media)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", d.file_name),
        ))
        .body(bytes))
}

/// One received deliverable's file, for an analyst's deliverable control (8.5); audited.
pub(super) async fn deliverable_file(
    state: State,
    caller: Caller,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/deliverables/{id}/file")?;
    let id = id.into_inner();
    let entry = audit(
        &caller,
        "deliverable_read",
        None,
        None,
        format!("deliverable {id}"),
    );
    let d = db(&state, move |c| {
        let d = Deliverable::get(c, id)?;
        if let Some(d) = &d {
            NewAuditEntry {
                lot: Some(d.lot.clone()),
                target: Some(d.numero_dossier.clone()),
                ..entry
            }
            .append(c)?;
        }
        Ok(d)
    })
    .await?
    .ok_or_else(|| ApiError::NotFound(format!("no deliverable {id}")))?;
    file_response(&d)
}

/// The latest deliverable of a dossier behind an open case of this médiateur (point 34: "the
/// médiateur reads it with the dossier"). Audited as a dossier read: the operator is told in
/// its next processing report.
pub(super) async fn case_deliverable(
    state: State,
    caller: Caller,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    allow(
        &caller,
        "GET",
        "/api/v1/mediation/cases/{id}/dossiers/{numero}/deliverable",
    )?;
    let (id, numero) = path.into_inner();
    let me = caller.name().to_owned();
    let (granted, refused) = read_entries(&caller, &numero, format!("case {id}, deliverable"));
    let out = db(&state, move |c| {
        let d = match checked_read(c, id, &me, &numero, refused)? {
            Ok(d) => d,
            Err(reason) => return Ok(Err(ApiError::Forbidden(reason))),
        };
        let files = Deliverable::of_dossier(c, &d.lot, &d.numero_dossier)?;
        let declared =
            cep_store::models::deliverables::declared_hash(c, &d.lot, &d.numero_dossier)?.flatten();
        // The file the fiche declares, else the latest one received.
        let Some(file) = files
            .iter()
            .find(|f| Some(&f.sha256) == declared.as_ref())
            .or(files.first())
            .cloned()
        else {
            return Ok(Err(ApiError::NotFound(format!(
                "no deliverable was received for dossier {}",
                d.numero_dossier
            ))));
        };
        NewAuditEntry {
            lot: Some(d.lot.clone()),
            ..granted
        }
        .append(c)?;
        Ok(Ok(file))
    })
    .await?;
    file_response(&out?)
}
