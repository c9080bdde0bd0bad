use crate::{Result, StoreError};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// One connection to either backend. Queries written with Diesel's DSL run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DbConnection::Pg(_) => "DbConnection::Pg",
            DbConnection::Sqlite(_) => "DbConnection::Sqlite",
        })
    }
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Pg(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The database engine behind a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        })
    }
}

/// A database URL whose scheme chooses the backend: `postgres://user@host/db` (or
/// `postgresql://`), `sqlite://relative/path.db`, `sqlite:///absolute/path.db`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.masked())
    }
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self> {
        let err = |reason| StoreError::Url {
            url: mask_password(url),
            reason,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(err(
                    "sqlite:// needs a file path, e.g. sqlite://cep-data/cep.db",
                ));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else {
            Err(err(
                "the scheme must be postgres://, postgresql:// or sqlite://",
            ))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The URL with any password replaced by `***`, for logs and `cep config`.
    pub fn masked(&self) -> String {
        match self {
            DatabaseUrl::Postgres(u) => mask_password(u),
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
        }
    }

    /// Opens one connection, configured as the pool configures its own.
    pub fn connect(&self) -> Result<DbConnection> {
        match self {
            DatabaseUrl::Postgres(u) => {
                PgConnection::establish(u)
                    .map(DbConnection::Pg)
                    .map_err(|source| StoreError::Connect {
                        backend: Backend::Postgres,
                        source,
                    })
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| StoreError::SqliteDir {
                        path: path.display().to_string(),
                        source,
                    })?;
                }
                let mut c =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(|source| {
                        StoreError::Connect {
                            backend: Backend::Sqlite,
                            source,
                        }
                    })?;
                // Wait for the lock rather than fail (set first: switching to WAL takes the lock);
                // WAL lets readers work while one writer writes. Temporary tables, sorts and
                // statement journals stay in memory: with them in temporary files, a full
                // `cep link` of 87,000 persons failed with "database or disk is full" while
                // writing its blocking keys, the disk far from full and no system call failing
                // (issue 20; `link/tests/store.rs` reproduces it at 90,000 with the old setting).
                c.batch_execute(
                    "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                )
                .map_err(StoreError::query("configuring the SQLite connection"))?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }
}

/// Replaces the password of a `scheme://user:password@host` URL by `***`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// r2d2 manager that opens connections of the backend the URL names, never guessing.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConnection> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<()> {
        conn.batch_execute("SELECT 1")
            .map_err(StoreError::query("checking a pooled connection"))
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens a pool of at most `max_size` connections (SQLite: writers queue on its lock).
    /// One connection is opened first, so an unreachable database fails at once with its
    /// own error rather than after the pool's timeout. Later, a connection is waited for at
    /// most 10 s: a database gone away makes requests fail (the API answers 503) rather than
    /// hang; connections are checked before use and replaced once it is back.
    pub fn open(url: &DatabaseUrl, max_size: u32) -> Result<Store> {
        drop(url.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(max_size)
            // No connection is opened in the background: r2d2 opens them on its own threads,
            // and one still connecting while a short command exits made libpq's exit handlers
            // crash (SIGSEGV, seen on `cep audit verify` against PostgreSQL). Connections are
            // opened when asked for and kept for reuse.
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(ConnectionManager { url: url.clone() })?;
        Ok(Store {
            pool,
            url: url.clone(),
        })
    }

    /// Opens the pool and applies pending migrations (the service does this on start).
    pub fn open_and_migrate(url: &DatabaseUrl, max_size: u32) -> Result<Store> {
        let store = Store::open(url, max_size)?;
        store.migrate()?;
        Ok(store)
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn conn(&self) -> Result<PooledConnection> {
        Ok(self.pool.get()?)
    }

    /// Applies every pending migration; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        run_migrations(&mut conn)
    }

    /// The embedded migrations not yet applied (empty when the schema is current).
    pub fn pending_migrations(&self) -> Result<Vec<String>> {
        let mut conn = self.conn()?;
        let backend = conn.backend();
        let err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration {
            backend,
            message: e.to_string(),
        };
        let names = match &mut *conn {
            DbConnection::Pg(c) => c
                .pending_migrations(PG_MIGRATIONS)
                .map_err(err)?
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
            DbConnection::Sqlite(c) => c
                .pending_migrations(SQLITE_MIGRATIONS)
                .map_err(err)?
                .iter()
                .map(|m| m.name().to_string())
                .collect(),
        };
        Ok(names)
    }
}

pub(crate) fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>> {
    let backend = conn.backend();
    let err = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration {
        backend,
        message: e.to_string(),
    };
    let applied = match conn {
        DbConnection::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map_err(err)?,
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map_err(err)?,
    };
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Runs `body` with the URL of a new PostgreSQL database on `server` (e.g.
/// `postgres://postgres@127.0.0.1:5432`), named `{prefix}_{process id}`, dropped afterwards
/// whatever `body` returned. For benchmarks and tools; tests use [`crate::testing`].
pub fn with_scratch_database<T, E: From<StoreError>>(
    server: &str,
    prefix: &str,
    body: impl FnOnce(&str) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let server = server.trim_end_matches('/');
    let name = format!("{prefix}_{}", std::process::id());
    let mut admin = DatabaseUrl::parse(&format!("{server}/postgres"))?.connect()?;
    let mut admin_sql = |sql: String| {
        admin
            .batch_execute(&sql)
            .map_err(StoreError::query("making a scratch database"))
    };
    admin_sql(format!("DROP DATABASE IF EXISTS {name}"))?;
    admin_sql(format!("CREATE DATABASE {name}"))?;
    let outcome = body(&format!("{server}/{name}"));
    admin_sql(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_scheme() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://cep-data/cep.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("cep-data/cep.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/cep/cep.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/cep/cep.db"))
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("cep.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn passwords_are_masked() {
        let u = DatabaseUrl::parse("postgres://cep:s3cret@db.internal:5432/cep").unwrap();
        assert_eq!(u.masked(), "postgres://cep:***@db.internal:5432/cep");
        assert!(!format!("{u:?}").contains("s3cret"));
        let e = DatabaseUrl::parse("mysql://cep:s3cret@h/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }
}
