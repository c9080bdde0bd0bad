//! `cep serve` (the REST API wired to the application's use cases, and the scheduler),
//! `cep user` (accounts of the local issuer) and `cep audit verify` (the hash chain of the
//! audit log).

use anyhow::{Context, Result, bail};
use cep_api::Role;
use cep_app::Settings;
use cep_store::Store;
use cep_store::models::access::{NewUser, User, verify_audit};
use std::io::BufRead;

/// Serves the API until SIGINT/SIGTERM.
pub fn serve(settings: &Settings, store: Store, bind: Option<&str>) -> Result<()> {
    let bind = bind.unwrap_or(&settings.api.bind).to_owned();
    if settings.reports.schedule {
        cep_app::schedule::spawn(store.clone(), settings.clone())?;
        println!(
            "scheduler on: monthly documents on day {} at {} h (Paris), statements on day {} after each quarter, quality reviews on day {} of January and July",
            settings.reports.monthly_day,
            settings.reports.hour,
            settings.reports.quarterly_day,
            settings.reports.half_yearly_day
        );
    }
    let state = api_state(settings, store)?;
    let listener =
        std::net::TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
    println!("serving the API on http://{bind} (health: /health, readiness: /ready)");
    actix_web::rt::System::new().block_on(async move {
        cep_api::server(state, listener, settings.api.max_body_bytes)?.await
    })?;
    Ok(())
}

/// The API's state from the settings: its authentication, limits and caches, wired to the
/// application's receive pipeline (a push goes through the same steps as a dropped file) and
/// drill-down engine.
pub fn api_state(settings: &Settings, store: Store) -> Result<cep_api::AppState> {
    let a = &settings.api;
    if a.jwt_secret.is_empty() {
        bail!("set the JWT secret: [api] jwt_secret or CEP_API_JWT_SECRET (32 bytes at least)");
    }
    let mut auth = cep_api::Auth::new(
        &a.issuer,
        &a.audience,
        a.jwt_secret.as_bytes(),
        a.token_ttl_seconds,
    )
    .map_err(|e| anyhow::anyhow!("[api] jwt_secret: {e}"))?;
    if !a.oidc_jwks_url.is_empty() {
        if a.oidc_issuer.is_empty() {
            bail!("[api] oidc_jwks_url is set: set oidc_issuer too");
        }
        auth = auth.with_oidc(cep_api::auth::Oidc::new(
            &a.oidc_issuer,
            &a.oidc_audience,
            &a.oidc_jwks_url,
            60,
        ));
    }
    let ingestor = cep_app::receive::ingestor(store.clone(), &settings.data_dir);
    let mut state = cep_api::AppState::new(store, ingestor, auth);
    state.max_failed_logins = a.max_failed_logins;
    state.lockout_minutes = a.lockout_minutes;
    state.billing_rules = settings.billing.rules();
    state.bonus_scheme = settings.billing.scheme()?;
    state.limiter = cep_api::limit::RateLimiter::new(cep_api::limit::RateLimit {
        per_second: a.rate_limit_per_second,
        burst: a.rate_limit_burst,
    });
    state.ttl = cep_api::cache::Ttl(std::time::Duration::from_secs(a.cache_seconds));
    state.drill = Some(std::sync::Arc::new(crate::compute_cmd::Drill::default()));
    Ok(state)
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Add {
        username: String,
        /// analyst | operator | mediator | admin
        #[arg(long)]
        role: String,
        /// The operator's lot (01…19).
        #[arg(long)]
        lot: Option<String>,
    },
    /// Disable a user: their tokens stop working at once.
    Disable { username: String },
    /// Set a new password (read from standard input), re-enable and unlock the account.
    Reset { username: String },
    /// List the users.
    List,
}

fn read_password() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub fn user(store: &Store, cmd: &UserCommand) -> Result<()> {
    let mut conn = store.conn()?;
    match cmd {
        UserCommand::Add {
            username,
            role,
            lot,
        } => {
            let role = Role::parse(role).with_context(|| {
                format!("role must be analyst, operator, mediator or admin, got {role:?}")
            })?;
            let password = read_password()?;
            cep_api::check_user(username, role, lot.as_deref(), &password)
                .map_err(|e| anyhow::anyhow!(e))?;
            if User::by_name(&mut conn, username)?.is_some() {
                bail!(
                    "user {username} already exists (cep user reset {username} to change the password)"
                );
            }
            let hash = cep_api::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            NewUser {
                username,
                role: role.as_str(),
                lot: lot.as_deref(),
                password_hash: Some(&hash),
                disabled: false,
                created_at: cep_store::models::now_utc(),
            }
            .insert(&mut conn)?;
            println!("user {username} created ({})", role.as_str());
        }
        UserCommand::Disable { username } => {
            if !User::set_disabled(&mut conn, username, true)? {
                bail!("no user {username}");
            }
            println!("user {username} disabled");
        }
        UserCommand::Reset { username } => {
            let password = read_password()?;
            cep_api::check_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            let hash = cep_api::auth::hash_password(&password).map_err(|e| anyhow::anyhow!(e))?;
            if !User::reset(&mut conn, username, &hash)? {
                bail!("no user {username}");
            }
            println!("user {username}: new password set, account enabled and unlocked");
        }
        UserCommand::List => {
            for u in User::all(&mut conn)? {
                println!(
                    "{:<24} {:<9} {:<3} {}",
                    u.username,
                    u.role,
                    u.lot.as_deref().unwrap_or("-"),
                    if u.disabled { "disabled" } else { "" }
                );
            }
        }
    }
    Ok(())
}

/// Exit status 0 when the chain is intact, an error naming the first broken entry otherwise.
pub fn audit_verify(store: &Store) -> Result<()> {
    let mut conn = store.conn()?;
    match verify_audit(&mut conn)? {
        Ok(n) => {
            println!("audit log intact: {n} entries, every hash follows from the one before");
            Ok(())
        }
        Err(b) => bail!("audit log broken at entry {}: {}", b.id, b.reason),
    }
}
