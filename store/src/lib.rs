//! The CEP store: Diesel schema, models and queries over PostgreSQL (production) and an
//! embedded SQLite file (the default, so the service runs with nothing installed).
//!
//! - [`DatabaseUrl`] chooses the backend explicitly from the URL scheme;
//! - [`Store`] is a connection pool; [`DbConnection`] is one connection of either backend
//!   (`diesel::MultiConnection`), so queries are written once;
//! - the few statements that differ between the backends (inserts returning ids, upserts, bulk
//!   loads) live in [`backend`] and nowhere else;
//! - migrations for both backends are embedded and run by [`Store::migrate`];
//! - [`models`] are plain structs with their own query functions.
//!
//! Error messages say what was being done; the cause is the error's `source` (print the
//! chain, e.g. with anyhow's `{:#}`).

pub mod backend;
mod connection;
pub mod digest;
pub mod models;
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use connection::{
    Backend, DatabaseUrl, DbConnection, PooledConnection, Store, with_scratch_database,
};

/// What can go wrong in the store; each variant says what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("invalid database URL {url:?}: {reason}")]
    Url { url: String, reason: &'static str },
    #[error("cannot connect to the {backend} database")]
    Connect {
        backend: Backend,
        source: diesel::ConnectionError,
    },
    #[error("cannot create the directory of the SQLite database {path}")]
    SqliteDir {
        path: String,
        source: std::io::Error,
    },
    #[error("no database connection available from the pool")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed on the {backend} database: {message}")]
    Migration { backend: Backend, message: String },
    #[error("database transaction failed")]
    Transaction(#[from] diesel::result::Error),
    #[error("database query failed while {context}")]
    Query {
        context: &'static str,
        source: diesel::result::Error,
    },
    #[error("refused to write: {0}")]
    Invalid(String),
}

impl StoreError {
    /// Wraps a Diesel error with what was being done.
    pub fn query(context: &'static str) -> impl FnOnce(diesel::result::Error) -> StoreError {
        move |source| StoreError::Query { context, source }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
