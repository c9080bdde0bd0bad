//! Sessions: log in (local issuer), revoke a token, who am I.

use super::*;

#[derive(Debug, Deserialize)]
pub(super) struct Login {
    username: String,
    password: String,
}

/// Local issuer: checks the password (Argon2), locks the account after repeated failures.
pub(super) async fn login(state: State, body: web::Json<Login>) -> Result<HttpResponse, ApiError> {
    let Login { username, password } = body.into_inner();
    let (max, minutes) = (state.max_failed_logins, state.lockout_minutes);
    let user = db(&state, move |c| {
        let Some(user) = User::by_name(c, &username)? else {
            return Ok(None);
        };
        let now = now_utc();
        if user.locked_until.is_some_and(|t| t > now) {
            return Err(ApiError::TooManyRequests(format!(
                "account locked after repeated failures until {} UTC",
                user.locked_until.expect("checked").format("%Y-%m-%d %H:%M")
            )));
        }
        let ok = !user.disabled
            && user
                .password_hash
                .as_deref()
                .is_some_and(|h| password_matches(&password, h));
        User::record_login(
            c,
            user.id,
            ok,
            max,
            now + chrono::Duration::minutes(minutes),
        )?;
        Ok(ok.then_some(user))
    })
    .await?;
    let user =
        user.ok_or_else(|| ApiError::Unauthorized("unknown user or wrong password".into()))?;
    let role = Role::parse(&user.role).ok_or_else(|| {
        ApiError::Internal(format!("user {} has role {:?}", user.username, user.role))
    })?;
    let (token, claims) = state.auth.issue(&user.username, role, user.lot.clone())?;
    Ok(HttpResponse::Ok().json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": claims.exp - claims.iat,
    })))
}

pub(super) async fn revoke(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/auth/revoke")?;
    let jti = caller.claims.jti.clone();
    let exp = chrono::DateTime::from_timestamp(caller.claims.exp as i64, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_else(now_utc);
    let j = jti.clone();
    db(&state, move |c| Ok(access::revoke_token(c, &j, exp)?)).await?;
    state.token_checks.revoked(&jti);
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn me(caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/me")?;
    Ok(HttpResponse::Ok().json(json!({
        "username": caller.name(),
        "role": caller.role(),
        "lot": caller.lot(),
    })))
}
