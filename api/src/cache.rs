//! What the API keeps in memory so that a read of a stored figure does not touch the database
//! on every request: stored runs' values (immutable once stored, point 17), the list of runs
//! and the per-token checks (revocation, account disabled) for a few seconds.
//!
//! Changes made through this process (a token revoked, a user disabled) apply at once; changes
//! made by another process (`cep user disable`, `cep compute`) within [`Ttl`] seconds.

use cep_store::models::indicators::{IndicatorRun, IndicatorValueRow};
use cep_store::{DbConnection, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long what another process may change is trusted (0: never cached).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(pub Duration);

impl Default for Ttl {
    fn default() -> Self {
        Ttl(Duration::from_secs(5))
    }
}

/// Stored runs' values kept in memory (at most [`RunCache::CAPACITY`] runs).
#[derive(Debug, Default)]
pub struct RunCache(Mutex<HashMap<i64, Arc<Vec<IndicatorValueRow>>>>);

impl RunCache {
    pub const CAPACITY: usize = 64;

    /// The run's values, read from the store the first time.
    pub fn values(
        &self,
        conn: &mut DbConnection,
        run: &IndicatorRun,
    ) -> Result<Arc<Vec<IndicatorValueRow>>, StoreError> {
        if let Some(v) = self.0.lock().expect("cache lock").get(&run.id) {
            return Ok(v.clone());
        }
        let values = Arc::new(run.values(conn)?);
        let mut map = self.0.lock().expect("cache lock");
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(run.id, values.clone());
        Ok(values)
    }

    /// The run's values if they are in memory.
    pub fn cached(&self, run: i64) -> Option<Arc<Vec<IndicatorValueRow>>> {
        self.0.lock().expect("cache lock").get(&run).cloned()
    }
}

/// The list of stored runs (newest first), read again after the TTL.
#[derive(Debug, Default)]
pub struct RunList(Mutex<Option<(Instant, Arc<Vec<IndicatorRun>>)>>);

impl RunList {
    /// The runs if read less than `ttl` ago.
    pub fn fresh(&self, ttl: Ttl) -> Option<Arc<Vec<IndicatorRun>>> {
        let g = self.0.lock().expect("cache lock");
        g.as_ref()
            .filter(|(at, _)| at.elapsed() < ttl.0)
            .map(|(_, runs)| runs.clone())
    }

    /// Reads the runs from the store and keeps them.
    pub fn read(&self, conn: &mut DbConnection) -> Result<Arc<Vec<IndicatorRun>>, StoreError> {
        let runs = Arc::new(IndicatorRun::all(conn)?);
        *self.0.lock().expect("cache lock") = Some((Instant::now(), runs.clone()));
        Ok(runs)
    }
}

/// What the store said about a token: revoked, and whether its account is disabled (`None`:
/// no local account of that name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStatus {
    pub revoked: bool,
    pub disabled: Option<bool>,
}

/// Token checks by token id (`jti`), with the user they belong to.
#[derive(Debug, Default)]
pub struct TokenChecks(Mutex<HashMap<String, (Instant, String, TokenStatus)>>);

impl TokenChecks {
    /// Above this many entries, expired ones are dropped (and all if none expired).
    const CAPACITY: usize = 100_000;

    pub fn get(&self, jti: &str, ttl: Ttl) -> Option<TokenStatus> {
        let g = self.0.lock().expect("cache lock");
        g.get(jti)
            .filter(|(at, _, _)| at.elapsed() < ttl.0)
            .map(|(_, _, s)| *s)
    }

    pub fn put(&self, jti: &str, user: &str, status: TokenStatus, ttl: Ttl) {
        if ttl.0.is_zero() {
            return;
        }
        let mut g = self.0.lock().expect("cache lock");
        if g.len() >= Self::CAPACITY {
            g.retain(|_, (at, _, _)| at.elapsed() < ttl.0);
            if g.len() >= Self::CAPACITY {
                g.clear();
            }
        }
        g.insert(jti.to_owned(), (Instant::now(), user.to_owned(), status));
    }

    /// A token revoked through this process.
    pub fn revoked(&self, jti: &str) {
        self.0.lock().expect("cache lock").remove(jti);
    }

    /// A user disabled or changed through this process: their tokens are checked again.
    pub fn user_changed(&self, user: &str) {
        self.0
            .lock()
            .expect("cache lock")
            .retain(|_, (_, u, _)| u != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_checks_expire_and_are_invalidated_by_user() {
        let checks = TokenChecks::default();
        let ttl = Ttl(Duration::from_secs(60));
        let ok = TokenStatus {
            revoked: false,
            disabled: Some(false),
        };
        checks.put("a", "alice", ok, ttl);
        checks.put("b", "bob", ok, ttl);
        assert_eq!(checks.get("a", ttl), Some(ok));
        checks.user_changed("alice");
        assert_eq!(checks.get("a", ttl), None);
        assert_eq!(checks.get("b", ttl), Some(ok));
        checks.revoked("b");
        assert_eq!(checks.get("b", ttl), None);
        // A zero TTL never caches.
        checks.put("c", "carol", ok, Ttl(Duration::ZERO));
        assert_eq!(checks.get("c", ttl), None);
        // An entry older than the TTL is not used.
        checks.put("d", "dan", ok, ttl);
        assert_eq!(checks.get("d", Ttl(Duration::ZERO)), None);
    }
}
