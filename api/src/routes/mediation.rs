//! The médiateur's cases and the dossiers behind them (every read audited).

use super::*;

pub(super) fn case_json(c: &MediationCase) -> Value {
    json!({
        "id": c.id, "lot": c.lot, "numero_dossier": c.numero_dossier,
        "identifiant_beneficiaire": c.identifiant_beneficiaire,
        "complaint_reference": c.complaint_reference, "mediator": c.mediator,
        "opened_at": utc(c.opened_at),
        "closed_at": c.closed_at.map(utc),
    })
}

/// The médiateur's own cases, newest first.
pub(super) async fn list_cases(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/mediation/cases")?;
    let me = caller.name().to_owned();
    let now = now_utc();
    let (cases, complaints) = db(&state, move |c| {
        Ok((
            MediationCase::all(c)?,
            cep_store::models::indicators::ComplaintState::as_of(c, now)?,
        ))
    })
    .await?;
    let today = cep_domain::paris::date_of(now);
    let items: Vec<Value> = cases
        .iter()
        .filter(|c| c.mediator == me)
        .map(|c| {
            // The complaints to the operator that this case escalates (CCTP 3.7).
            let mut v = case_json(c);
            v["complaints"] = complaints
                .iter()
                .filter(|k| escalated_by(c, k, today))
                .map(|k| json!(k.identifiant_reclamation))
                .collect();
            v
        })
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
pub(super) struct OpenCase {
    lot: String,
    numero_dossier: Option<String>,
    identifiant_beneficiaire: Option<String>,
    complaint_reference: String,
}

pub(super) async fn open_case(
    state: State,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/mediation/cases")?;
    let b: OpenCase = json_body(&req, &body)?;
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
        cep_ingest::pipeline::CASE_OPENED,
        Some(new.lot.clone()),
        None,
        new.complaint_reference.clone(),
    );
    let case = db(&state, move |c| {
        // A case is opened on a dossier or a beneficiary the service knows, in that lot.
        if let Some(n) = &new.numero_dossier {
            let known = cep_store::models::dossiers::Dossier::find(c, n)?;
            if known.is_none_or(|d| d.lot != new.lot) {
                return Err(ApiError::NotFound(format!(
                    "no dossier {n} in lot {}",
                    new.lot
                )));
            }
        }
        if new.numero_dossier.is_none()
            && let Some(p) = &new.identifiant_beneficiaire
            && !cep_store::models::dossiers::OperatorPerson::exists(c, &new.lot, p)?
        {
            return Err(ApiError::NotFound(format!(
                "no beneficiary {p} in lot {}",
                new.lot
            )));
        }
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

pub(super) async fn close_case(
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
pub(super) async fn case_dossier(
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
    let (granted, refused) = read_entries(&caller, &numero, format!("case {id}"));
    let out = db(&state, move |c| {
        let d = match checked_read(c, id, &me, &numero, refused)? {
            Ok(d) => d,
            Err(reason) => return Ok(Err(reason)),
        };
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
                "received_at": utc(f.received_at),
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

/// A case, a dossier, and why the médiateur may not read it (none: they may).
pub(super) type BehindCase = (
    Option<MediationCase>,
    Option<cep_store::models::ingest::DossierSummary>,
    Option<String>,
);

/// The case `id` and the dossier `numero`, and why the médiateur `me` may not read it (none
/// when the case is open, theirs, and the dossier is behind it).
pub(super) fn behind_case(
    c: &mut cep_store::DbConnection,
    id: i64,
    me: &str,
    numero: &str,
) -> Result<BehindCase, ApiError> {
    let numero = numero.to_owned();
    let case = MediationCase::get(c, id)?;
    let dossier = cep_store::models::ingest::dossiers_by_numero(c, std::slice::from_ref(&numero))?
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
    Ok((case, dossier, why_not))
}

/// Whether case `c` escalates complaint `k` (indicators-v1 point 13), as known on `today`.
pub(super) fn escalated_by(
    c: &MediationCase,
    k: &cep_store::models::indicators::ComplaintState,
    today: chrono::NaiveDate,
) -> bool {
    use cep_domain::mediation::{CaseRef, ComplaintRef, escalates};
    let (Ok(case_lot), Ok(k_lot)) = (
        cep_domain::Lot::parse(&c.lot),
        cep_domain::Lot::parse(&k.lot),
    ) else {
        return false;
    };
    escalates(
        &CaseRef {
            lot: case_lot,
            numero_dossier: c.numero_dossier.as_deref(),
            identifiant_beneficiaire: c.identifiant_beneficiaire.as_deref(),
            opened: cep_domain::paris::date_of(c.opened_at),
        },
        &ComplaintRef {
            lot: k_lot,
            numero_dossier: k.numero_dossier.as_deref(),
            identifiant_beneficiaire: &k.identifiant_beneficiaire,
            received: k.date_reception,
        },
        today,
    )
}

/// The two audit entries of a médiateur's read of `numero` through case `id`: granted (a
/// dossier read, told to the operator) and refused.
pub(super) fn read_entries(
    caller: &Caller,
    numero: &str,
    detail: String,
) -> (NewAuditEntry, NewAuditEntry) {
    (
        audit(
            caller,
            cep_ingest::pipeline::DOSSIER_ACCESS,
            None,
            Some(numero.to_owned()),
            detail.clone(),
        ),
        audit(
            caller,
            "dossier_access_refused",
            None,
            Some(numero.to_owned()),
            detail,
        ),
    )
}

/// The dossier `numero` if the médiateur `me` may read it through case `id`; else the reason,
/// the attempt written to the audit log (`refused`).
pub(super) fn checked_read(
    c: &mut cep_store::DbConnection,
    id: i64,
    me: &str,
    numero: &str,
    refused: NewAuditEntry,
) -> Result<Result<cep_store::models::ingest::DossierSummary, String>, ApiError> {
    let (case, dossier, why_not) = behind_case(c, id, me, numero)?;
    if let Some(reason) = why_not {
        NewAuditEntry {
            lot: case.as_ref().map(|k| k.lot.clone()),
            detail: format!("{}: {reason}", refused.detail),
            ..refused
        }
        .append(c)?;
        return Ok(Err(reason));
    }
    Ok(Ok(dossier.expect("checked")))
}
