//! Who may use the API and what they did: users (local issuer), revoked tokens, and the
//! append-only, hash-chained audit log.

use crate::schema::{audit_log, mediation_cases, revoked_tokens, users};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::indicators::MediationCase;

/// An API user of the local issuer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// `analyst`, `operator`, `mediator` or `admin`.
    pub role: String,
    /// The operator's lot.
    pub lot: Option<String>,
    /// Argon2 PHC string.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub role: &'a str,
    pub lot: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

impl NewUser<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, users::table, users::id, self)
            .map_err(StoreError::query("creating a user"))
    }
}

impl User {
    pub fn by_name(conn: &mut DbConnection, username: &str) -> Result<Option<User>> {
        users::table
            .filter(users::username.eq(username))
            .select(User::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a user"))
    }

    pub fn all(conn: &mut DbConnection) -> Result<Vec<User>> {
        users::table
            .order(users::username)
            .select(User::as_select())
            .load(conn)
            .map_err(StoreError::query("reading users"))
    }

    /// Sets the password hash, re-enables the account and clears the lockout.
    pub fn reset(conn: &mut DbConnection, username: &str, password_hash: &str) -> Result<bool> {
        let n = diesel::update(users::table.filter(users::username.eq(username)))
            .set((
                users::password_hash.eq(Some(password_hash)),
                users::disabled.eq(false),
                users::failed_logins.eq(0),
                users::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map_err(StoreError::query("resetting a user"))?;
        Ok(n > 0)
    }

    pub fn set_disabled(conn: &mut DbConnection, username: &str, disabled: bool) -> Result<bool> {
        let n = diesel::update(users::table.filter(users::username.eq(username)))
            .set(users::disabled.eq(disabled))
            .execute(conn)
            .map_err(StoreError::query("disabling a user"))?;
        Ok(n > 0)
    }

    /// Records a login outcome: a success clears the counter; a failure increments it and,
    /// from `max_failures`, locks the account until `lock_until`.
    pub fn record_login(
        conn: &mut DbConnection,
        id: i64,
        success: bool,
        max_failures: i32,
        lock_until: NaiveDateTime,
    ) -> Result<()> {
        let target = users::table.find(id);
        let q = if success {
            diesel::update(target)
                .set((
                    users::failed_logins.eq(0),
                    users::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)
        } else {
            diesel::update(target)
                .set(users::failed_logins.eq(users::failed_logins + 1))
                .execute(conn)
                .and_then(|_| {
                    diesel::update(target.filter(users::failed_logins.ge(max_failures)))
                        .set((
                            users::locked_until.eq(Some(lock_until)),
                            users::failed_logins.eq(0),
                        ))
                        .execute(conn)
                })
        };
        q.map(drop).map_err(StoreError::query("recording a login"))
    }
}

/// Revokes a token (by its `jti`) until it expires.
pub fn revoke_token(conn: &mut DbConnection, jti: &str, expires_at: NaiveDateTime) -> Result<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(revoked_tokens::table)
        .values((
            revoked_tokens::jti.eq(jti),
            revoked_tokens::expires_at.eq(expires_at),
        ))
        .on_conflict(revoked_tokens::jti)
        .do_nothing()
        .execute(c))
    .map(drop)
    .map_err(StoreError::query("revoking a token"))
}

pub fn is_revoked(conn: &mut DbConnection, jti: &str) -> Result<bool> {
    Ok(revoked_tokens::table
        .find(jti)
        .select(revoked_tokens::jti)
        .first::<String>(conn)
        .optional()
        .map_err(StoreError::query("reading revoked tokens"))?
        .is_some())
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub lot: Option<String>,
    pub target: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub lot: Option<String>,
    pub target: Option<String>,
    pub detail: String,
}

/// The hash of the chain's start.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and every field, each length-prefixed (no ambiguity
/// between fields).
fn entry_hash(prev: &str, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    let at = e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    for part in [
        prev,
        &at,
        &e.actor,
        &e.role,
        &e.action,
        e.lot.as_deref().unwrap_or("\u{0}"),
        e.target.as_deref().unwrap_or("\u{0}"),
        &e.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("{:x}", h.finalize())
}

impl NewAuditEntry {
    /// Appends the entry after the last one (serialised: the table is locked on PostgreSQL,
    /// SQLite has one writer). Returns its id.
    pub fn append(&self, conn: &mut DbConnection) -> Result<i64> {
        conn.transaction(|conn| {
            if let DbConnection::Pg(c) = conn {
                diesel::sql_query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
                    .execute(c)
                    .map_err(StoreError::query("locking the audit log"))?;
            }
            let prev: String = audit_log::table
                .order(audit_log::id.desc())
                .select(audit_log::hash)
                .first(conn)
                .optional()
                .map_err(StoreError::query("reading the audit log's last entry"))?
                .unwrap_or_else(|| GENESIS.to_owned());
            let hash = entry_hash(&prev, self);
            insert_returning_id!(
                conn,
                audit_log::table,
                audit_log::id,
                (
                    audit_log::at.eq(self.at),
                    audit_log::actor.eq(&self.actor),
                    audit_log::role.eq(&self.role),
                    audit_log::action.eq(&self.action),
                    audit_log::lot.eq(&self.lot),
                    audit_log::target.eq(&self.target),
                    audit_log::detail.eq(&self.detail),
                    audit_log::prev_hash.eq(&prev),
                    audit_log::hash.eq(&hash),
                )
            )
            .map_err(StoreError::query("appending to the audit log"))
        })
    }
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first entry whose stored hashes do not follow from the entries before it.
    pub id: i64,
    pub reason: &'static str,
}

/// Walks the whole log: `Ok(entries)` when every entry's `prev_hash` is the previous entry's
/// hash and its `hash` recomputes; else the first break (an edited row, a deleted one).
pub fn verify_audit(conn: &mut DbConnection) -> Result<std::result::Result<usize, ChainBreak>> {
    let entries: Vec<AuditEntry> = audit_log::table
        .order(audit_log::id)
        .select(AuditEntry::as_select())
        .load(conn)
        .map_err(StoreError::query("reading the audit log"))?;
    let mut prev = GENESIS.to_owned();
    for e in &entries {
        if e.prev_hash != prev {
            return Ok(Err(ChainBreak {
                id: e.id,
                reason: "its previous hash is not the hash of the entry before it (a row was deleted or altered)",
            }));
        }
        let recomputed = entry_hash(
            &prev,
            &NewAuditEntry {
                at: e.at,
                actor: e.actor.clone(),
                role: e.role.clone(),
                action: e.action.clone(),
                lot: e.lot.clone(),
                target: e.target.clone(),
                detail: e.detail.clone(),
            },
        );
        if recomputed != e.hash {
            return Ok(Err(ChainBreak {
                id: e.id,
                reason: "its content does not match its hash (the row was edited)",
            }));
        }
        prev = e.hash.clone();
    }
    Ok(Ok(entries.len()))
}

/// Entries of `action` for `lot` on the Europe/Paris day `day` (e.g. the médiateur's dossier
/// accesses reported to the operator, Annex 2 §3), oldest first.
pub fn audit_of_day(
    conn: &mut DbConnection,
    action: &str,
    lot: &str,
    day: NaiveDate,
) -> Result<Vec<AuditEntry>> {
    // Paris is UTC+1 or +2: read a window around the day, keep what falls on it in Paris.
    let from = day.and_hms_opt(0, 0, 0).expect("midnight") - chrono::Duration::hours(3);
    let to = from + chrono::Duration::hours(30);
    Ok(audit_log::table
        .filter(audit_log::action.eq(action))
        .filter(audit_log::lot.eq(lot))
        .filter(audit_log::at.ge(from))
        .filter(audit_log::at.lt(to))
        .order(audit_log::id)
        .select(AuditEntry::as_select())
        .load(conn)
        .map_err(StoreError::query("reading the audit log"))?
        .into_iter()
        .filter(|e| cep_domain::paris::date_of(e.at) == day)
        .collect())
}

/// The entries of `actions` for `lot` not yet reported to its operator (after the lot's
/// cursor), oldest first.
pub fn unreported(conn: &mut DbConnection, actions: &[&str], lot: &str) -> Result<Vec<AuditEntry>> {
    use crate::schema::mediator_read_cursors as cursors;
    let after: i64 = cursors::table
        .find(lot)
        .select(cursors::last_audit_id)
        .first(conn)
        .optional()
        .map_err(StoreError::query("reading the médiateur reads cursor"))?
        .unwrap_or(0);
    audit_log::table
        .filter(audit_log::action.eq_any(actions))
        .filter(audit_log::lot.eq(lot))
        .filter(audit_log::id.gt(after))
        .order(audit_log::id)
        .select(AuditEntry::as_select())
        .load(conn)
        .map_err(StoreError::query("reading the audit log"))
}

/// Records that the `lot`'s entries up to `through` (an audit id) were reported.
pub fn mark_reported(conn: &mut DbConnection, lot: &str, through: i64) -> Result<()> {
    use crate::schema::mediator_read_cursors as cursors;
    let updated = diesel::update(cursors::table.find(lot))
        .set(cursors::last_audit_id.eq(through))
        .execute(conn)
        .map_err(StoreError::query("advancing the médiateur reads cursor"))?;
    if updated == 0 {
        diesel::insert_into(cursors::table)
            .values((cursors::lot.eq(lot), cursors::last_audit_id.eq(through)))
            .execute(conn)
            .map_err(StoreError::query("advancing the médiateur reads cursor"))?;
    }
    Ok(())
}

/// The lots that have entries of `actions` (in the audit log).
pub fn lots_with(conn: &mut DbConnection, actions: &[&str]) -> Result<Vec<String>> {
    audit_log::table
        .filter(audit_log::action.eq_any(actions))
        .filter(audit_log::lot.is_not_null())
        .select(audit_log::lot.assume_not_null())
        .distinct()
        .order(audit_log::lot.assume_not_null())
        .load(conn)
        .map_err(StoreError::query("reading the audit log"))
}

impl MediationCase {
    pub fn get(conn: &mut DbConnection, id: i64) -> Result<Option<MediationCase>> {
        mediation_cases::table
            .find(id)
            .select(MediationCase::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a mediation case"))
    }

    /// Every case, newest first.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<MediationCase>> {
        mediation_cases::table
            .order(mediation_cases::id.desc())
            .select(MediationCase::as_select())
            .load(conn)
            .map_err(StoreError::query("reading mediation cases"))
    }

    /// Closes an open case; `false` when it was not open.
    pub fn close(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<bool> {
        let n = diesel::update(
            mediation_cases::table
                .find(id)
                .filter(mediation_cases::closed_at.is_null()),
        )
        .set(mediation_cases::closed_at.eq(Some(at)))
        .execute(conn)
        .map_err(StoreError::query("closing a mediation case"))?;
        Ok(n > 0)
    }
}

/// Anomalies counted by the lot of their file, code and severity (no dossier, no value).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AnomalyCount {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub lot: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub severity: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub count: i64,
}

impl AnomalyCount {
    /// Every (lot, code, severity) with its count, in that order.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<AnomalyCount>> {
        let sql = "SELECT r.lot AS lot, a.code AS code, a.severity AS severity, \
                   COUNT(*) AS count FROM anomalies a JOIN receipts r ON a.receipt_id = r.id \
                   GROUP BY r.lot, a.code, a.severity ORDER BY r.lot, a.code, a.severity";
        crate::on_backend!(conn, |c| diesel::sql_query(sql).load(c))
            .map_err(StoreError::query("counting anomalies"))
    }
}

impl super::buyer::StoredStatement {
    /// Every issued statement, by number and cut-off.
    pub fn all(conn: &mut DbConnection) -> Result<Vec<super::buyer::StoredStatement>> {
        use crate::schema::consumption_statements as t;
        t::table
            .order((t::number, t::cutoff))
            .select(super::buyer::StoredStatement::as_select())
            .load(conn)
            .map_err(StoreError::query("reading consumption statements"))
    }
}
