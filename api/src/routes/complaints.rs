//! Complaints monitoring (CCTP 3.7, issue 23.2): each written complaint against its 7-day
//! acknowledgment and 45-day answer deadlines, the médiateur's cases that escalate it, and the
//! counts per lot.

use super::*;
use cep_domain::mediation::{ComplaintDeadlines, Deadline};
use cep_store::models::indicators::ComplaintState;

/// A lot's complaints counted by where they stand.
#[derive(Debug, Default, serde::Serialize)]
struct LotCounts {
    complaints: u64,
    acknowledgment_missed: u64,
    acknowledgment_overdue: u64,
    answer_missed: u64,
    answer_overdue: u64,
    answer_pending: u64,
    escalated: u64,
}

#[derive(Debug, Deserialize)]
pub(super) struct ComplaintsQuery {
    lot: Option<String>,
    /// `all` (default), `late` (a deadline missed: done late or overdue), `overdue` (open past
    /// a deadline) or `escalated`.
    state: Option<String>,
    /// As known at this cut-off (RFC 3339); default now.
    cutoff: Option<String>,
}

fn deadline_json(d: Deadline) -> Value {
    match d {
        Deadline::Met { on } => json!({"state": d.as_str(), "on": on}),
        Deadline::MetLate { on, days_late } => {
            json!({"state": d.as_str(), "on": on, "days_late": days_late})
        }
        Deadline::Pending { due } => json!({"state": d.as_str(), "due": due}),
        Deadline::Overdue { due, days_over } => {
            json!({"state": d.as_str(), "due": due, "days_over": days_over})
        }
    }
}

/// The complaints as known at the cut-off, each with its deadlines and escalations, and the
/// counts per lot. Operators see their own lot; analysts, administrators and the médiateur
/// every lot.
pub(super) async fn complaints(
    state: State,
    caller: Caller,
    q: web::Query<ComplaintsQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/complaints")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?.filter(|l| l != "national");
    // Monitoring reads the store as it is now unless asked otherwise (not the start of the
    // minute the figures routes share).
    let cutoff = match q.cutoff.as_deref() {
        Some(_) => cutoff_param(q.cutoff.as_deref())?,
        None => now_utc(),
    };
    let which = q.state.unwrap_or_else(|| "all".into());
    if !["all", "late", "overdue", "escalated"].contains(&which.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "state must be all, late, overdue or escalated, got {which:?}"
        )));
    }
    let today = cep_domain::paris::date_of(cutoff);
    let (complaints, cases) = db(&state, move |c| {
        Ok((ComplaintState::as_of(c, cutoff)?, MediationCase::all(c)?))
    })
    .await?;
    let mut per_lot: std::collections::BTreeMap<String, LotCounts> = Default::default();
    let mut items = vec![];
    for k in complaints
        .iter()
        .filter(|k| lot.as_deref().is_none_or(|l| k.lot == l))
    {
        let deadlines = ComplaintDeadlines::of(
            k.date_reception,
            k.date_accuse_reception,
            k.date_reponse,
            today,
        );
        let escalations: Vec<i64> = cases
            .iter()
            .filter(|m| escalated_by(m, k, today))
            .map(|m| m.id)
            .collect();
        let counts = per_lot.entry(k.lot.clone()).or_default();
        counts.complaints += 1;
        counts.acknowledgment_missed += u64::from(deadlines.acknowledgment.missed());
        counts.acknowledgment_overdue +=
            u64::from(matches!(deadlines.acknowledgment, Deadline::Overdue { .. }));
        counts.answer_missed += u64::from(deadlines.answer.missed());
        counts.answer_overdue += u64::from(matches!(deadlines.answer, Deadline::Overdue { .. }));
        counts.answer_pending += u64::from(matches!(deadlines.answer, Deadline::Pending { .. }));
        counts.escalated += u64::from(!escalations.is_empty());
        let keep = match which.as_str() {
            "late" => deadlines.acknowledgment.missed() || deadlines.answer.missed(),
            "overdue" => {
                matches!(deadlines.acknowledgment, Deadline::Overdue { .. })
                    || matches!(deadlines.answer, Deadline::Overdue { .. })
            }
            "escalated" => !escalations.is_empty(),
            _ => true,
        };
        if keep {
            items.push(json!({
                "lot": k.lot, "identifiant_reclamation": k.identifiant_reclamation,
                "numero_dossier": k.numero_dossier,
                "identifiant_beneficiaire": k.identifiant_beneficiaire,
                "date_reception": k.date_reception, "motif_reclamation": k.motif_reclamation,
                "acknowledgment": deadline_json(deadlines.acknowledgment),
                "answer": deadline_json(deadlines.answer),
                "mediation_cases": escalations,
            }));
        }
    }
    let lots: Vec<Value> = per_lot
        .into_iter()
        .map(|(lot, c)| {
            let mut v = json!(c);
            v["lot"] = json!(lot);
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "cutoff": utc(cutoff), "state": which,
        "acknowledgment_days": cep_domain::mediation::ACKNOWLEDGMENT_DAYS,
        "answer_days": cep_domain::mediation::ANSWER_DAYS,
        "lots": lots, "items": items,
    })))
}
