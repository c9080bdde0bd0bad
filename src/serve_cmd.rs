//! `cep serve` (the REST API), `cep user` (accounts of the local issuer) and `cep audit verify`
//! (the hash chain of the audit log).

use crate::config::Settings;
use anyhow::{Context, Result, bail};
use cep_api::Role;
use cep_store::Store;
use cep_store::models::access::{NewUser, User, verify_audit};
use std::io::BufRead;

/// Serves the API until SIGINT/SIGTERM.
pub fn serve(settings: &Settings, store: Store, bind: Option<&str>) -> Result<()> {
    let bind = bind.unwrap_or(&settings.api.bind).to_owned();
    if settings.reports.schedule {
        crate::scheduler::spawn(store.clone(), settings.clone())?;
        println!(
            "scheduler on: monthly documents on day {} at {} h (Paris), statements on day {} after each quarter, quality reviews on day {} of January and July",
            settings.reports.monthly_day,
            settings.reports.hour,
            settings.reports.quarterly_day,
            settings.reports.half_yearly_day
        );
    }
    let state = settings.api_state(store)?;
    let listener =
        std::net::TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
    println!("serving the API on http://{bind} (health: /health, readiness: /ready)");
    actix_web::rt::System::new().block_on(async move {
        cep_api::server(state, listener, settings.api.max_body_bytes)?.await
    })?;
    Ok(())
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
