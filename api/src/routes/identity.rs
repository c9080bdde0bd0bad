//! Identity review: the merges and splits of national persons made by the linking runs, and
//! the analysts' decisions on pairs of beneficiaries (applied by the next `cep link`). Only
//! pseudonymous ids: operator beneficiary ids and national person ids.

use super::*;
use cep_store::models::link::{LinkDecision, LinkEvent};

#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    /// Only the events of this national person (kept, absorbed, left or created).
    person: Option<String>,
    #[serde(flatten)]
    page: Page,
}

pub(super) async fn identity_events(
    state: State,
    caller: Caller,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/identity/events")?;
    let q = q.into_inner();
    let person = q.person.clone();
    let events = db(&state, move |c| Ok(LinkEvent::list(c, person.as_deref())?)).await?;
    let items = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "run": e.run_id, "kind": e.kind,
                "national_person_id": e.national_person_id,
                "other_national_person_id": e.other_national_person_id,
                "records": e.records, "reason": e.reason,
            })
        })
        .collect();
    q.page.respond(
        "events",
        items,
        &[
            "id",
            "run",
            "kind",
            "national_person_id",
            "other_national_person_id",
            "records",
            "reason",
        ],
    )
}

/// The decisions in force, with the beneficiaries they name.
pub(super) async fn identity_decisions(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/identity/decisions")?;
    let (decisions, persons) = db(&state, |c| {
        let decisions = LinkDecision::in_force(c)?;
        let mut ids: Vec<i64> = decisions
            .iter()
            .flat_map(|d| [d.operator_person_a, d.operator_person_b])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let persons = cep_store::models::link::link_sources_of(c, &ids)?;
        Ok((decisions, persons))
    })
    .await?;
    let who = |op: i64| {
        persons
            .iter()
            .find(|p| p.operator_person_id == op)
            .map(|p| (p.lot.clone(), p.identifiant_beneficiaire.clone()))
            .unwrap_or_default()
    };
    let items = decisions
        .iter()
        .map(|d| {
            let (a, b) = (who(d.operator_person_a), who(d.operator_person_b));
            json!({
                "id": d.id, "lot_a": a.0, "identifiant_a": a.1, "lot_b": b.0, "identifiant_b": b.1,
                "same": d.same, "decided_by": d.decided_by, "reason": d.reason,
                "decided_at": utc(d.decided_at),
            })
        })
        .collect();
    page.respond(
        "decisions",
        items,
        &[
            "id",
            "lot_a",
            "identifiant_a",
            "lot_b",
            "identifiant_b",
            "same",
            "decided_by",
            "reason",
            "decided_at",
        ],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct Beneficiary {
    lot: String,
    identifiant_beneficiaire: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct Decision {
    a: Beneficiary,
    b: Beneficiary,
    same: bool,
    reason: String,
}

/// An analyst decides that two beneficiaries are the same person (refused when they carry two
/// different valid NIRs) or are not; recorded with the analyst's name and audited.
pub(super) async fn decide_identity(
    state: State,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/identity/decisions")?;
    let d: Decision = json_body(&req, &body)?;
    if d.reason.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "reason is required (it is kept with the decision)".into(),
        ));
    }
    for l in [&d.a.lot, &d.b.lot] {
        cep_domain::Lot::parse(l)
            .map_err(|_| ApiError::BadRequest(format!("lot must be 01…19, got {l:?}")))?;
    }
    let entry = audit(
        &caller,
        "identity_decision",
        None,
        Some(format!(
            "{}/{} {}/{}",
            d.a.lot, d.a.identifiant_beneficiaire, d.b.lot, d.b.identifiant_beneficiaire
        )),
        format!("same={}: {}", d.same, d.reason),
    );
    let store = state.store.clone();
    let by = caller.name().to_owned();
    let id = web::block(move || -> Result<i64, ApiError> {
        use cep_link::run::LinkError;
        let id = cep_link::run::decide(
            &store,
            (&d.a.lot, &d.a.identifiant_beneficiaire),
            (&d.b.lot, &d.b.identifiant_beneficiaire),
            d.same,
            &by,
            &d.reason,
        )
        .map_err(|e| match e {
            LinkError::UnknownPerson { .. }
            | LinkError::SamePerson
            | LinkError::NirConflict { .. } => ApiError::BadRequest(e.to_string()),
            LinkError::Store(e) => ApiError::from(e),
            other => ApiError::Internal(other.to_string()),
        })?;
        entry.append(&mut *store.conn()?)?;
        Ok(id)
    })
    .await??;
    Ok(HttpResponse::Created().json(json!({"id": id, "applied_by": "the next `cep link` run"})))
}
