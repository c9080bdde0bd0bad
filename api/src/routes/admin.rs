//! Administration: users, the audit log, buyer-side imports, the bonus scheme.

use super::*;

pub(super) async fn list_users(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/admin/users")?;
    let users = db(&state, |c| Ok(User::all(c)?)).await?;
    let users: Vec<Value> = users
        .iter()
        .map(|u| json!({"username": u.username, "role": u.role, "lot": u.lot, "disabled": u.disabled}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"users": users})))
}

#[derive(Debug, Deserialize)]
pub(super) struct CreateUser {
    username: String,
    role: String,
    lot: Option<String>,
    password: String,
}

pub(super) async fn create_user(
    state: State,
    caller: Caller,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/admin/users")?;
    let b: CreateUser = json_body(&req, &body)?;
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

pub(super) fn web_hash(password: &str) -> Result<String, ApiError> {
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

pub(super) async fn verify_audit(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/admin/audit/verify")?;
    let r = db(&state, |c| Ok(access::verify_audit(c)?)).await?;
    Ok(HttpResponse::Ok().json(match r {
        Ok(n) => json!({"intact": true, "entries": n}),
        Err(b) => json!({"intact": false, "broken_at": b.id, "reason": b.reason}),
    }))
}

/// Disables a user: their tokens stop working at once on this server (other servers within
/// their cache TTL).
pub(super) async fn disable_user(
    state: State,
    caller: Caller,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/admin/users/{username}/disable")?;
    let username = username.into_inner();
    let entry = audit(
        &caller,
        "user_disabled",
        None,
        Some(username.clone()),
        String::new(),
    );
    let name = username.clone();
    db(&state, move |c| {
        if !User::set_disabled(c, &name, true)? {
            return Err(ApiError::NotFound(format!("no user {name}")));
        }
        entry.append(c)?;
        Ok(())
    })
    .await?;
    state.token_checks.user_changed(&username);
    Ok(HttpResponse::Ok().json(json!({"username": username, "disabled": true})))
}

#[derive(Debug, Deserialize)]
pub(super) struct ImportQuery {
    /// The file's name, kept with the import (default: `api_{kind}.csv`).
    file_name: Option<String>,
}

/// A buyer-side import (spec §9): the CSV body is checked as `cep import` checks a file; an
/// invalid file records nothing and the answer lists its errors.
pub(super) async fn import(
    state: State,
    caller: Caller,
    req: HttpRequest,
    kind: web::Path<String>,
    q: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/admin/imports/{kind}")?;
    use cep_ingest::buyer::{ImportError, ImportKind, import_bytes};
    let kind = kind.into_inner();
    let kind = ImportKind::parse(&kind).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no import kind {kind:?} (operators, purchase-orders, surveys, mystery-contacts, deliverable-controls, populations)"
        ))
    })?;
    csv_content_type(&req)?;
    let q = q.into_inner();
    let file = q
        .file_name
        .unwrap_or_else(|| format!("api_{}.csv", kind.as_str()));
    if file.contains(['/', '\\']) || file.contains("..") {
        return Err(ApiError::BadRequest(
            "file_name must be a bare file name".into(),
        ));
    }
    let entry = audit(
        &caller,
        "buyer_import",
        None,
        Some(file.clone()),
        kind.as_str().to_owned(),
    );
    let store = state.store.clone();
    let outcome = web::block(move || -> Result<_, ApiError> {
        match import_bytes(&store, kind, &file, &body) {
            Ok(o) => {
                entry.append(&mut *store.conn()?)?;
                Ok(Ok(o))
            }
            Err(ImportError::Invalid { errors, .. }) => Ok(Err(errors)),
            Err(ImportError::Store(e)) => Err(ApiError::from(e)),
            Err(e @ ImportError::Io { .. }) => Err(ApiError::Internal(e.to_string())),
        }
    })
    .await??;
    match outcome {
        Ok(o) => Ok(HttpResponse::Ok().json(json!({
            "kind": kind.as_str(), "rows": o.rows, "new": o.new, "amended": o.amended,
            "unchanged": o.unchanged, "warnings": o.warnings,
        }))),
        Err(errors) => Ok(HttpResponse::UnprocessableEntity()
            .content_type("application/problem+json")
            .json(json!({
                "type": "https://cep.francecompetences.fr/problems/invalid-import",
                "title": "Import rejected, nothing recorded",
                "status": 422,
                "detail": format!("{} error(s)", errors.len()),
                "errors": errors,
            }))),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PopulationQuery {
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Reference populations as currently recorded.
pub(super) async fn populations(
    state: State,
    caller: Caller,
    q: web::Query<PopulationQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/populations")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let rows = db(&state, |c| {
        Ok(cep_store::models::buyer::ReferencePopulation::all_current(
            c,
        )?)
    })
    .await?;
    let items = rows
        .iter()
        .filter(|p| lot.as_deref().is_none_or(|l| p.lot == l))
        .map(|p| {
            json!({
                "lot": p.lot, "annee": p.annee, "dimension": p.dimension, "code": p.code,
                "population_active": p.population_active,
                "population_active_occupee": p.population_active_occupee,
                "population_cible_cep": p.population_cible_cep,
                "recorded_at": utc(p.recorded_at),
            })
        })
        .collect();
    q.page.respond(
        "populations",
        items,
        &[
            "lot",
            "annee",
            "dimension",
            "code",
            "population_active",
            "population_active_occupee",
            "population_cible_cep",
            "recorded_at",
        ],
    )
}
