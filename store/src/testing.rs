//! Test databases: one fresh, isolated database per test on each backend, dropped afterwards.
//!
//! - SQLite: a new file in a temporary directory.
//! - PostgreSQL, when `CEP_TEST_POSTGRES_URL` names a server (e.g.
//!   `postgres://postgres@127.0.0.1:5432`): a uniquely named database cloned from a template
//!   migrated once per set of migrations (`cep_tpl_<digest>`), dropped when the test ends.
//!
//! [`each_backend`] runs a test body on every backend available: SQLite always, PostgreSQL
//! when configured. CI sets `CEP_TEST_POSTGRES_URL`; `CEP_TEST_REQUIRE_POSTGRES=1` makes a
//! missing PostgreSQL a failure instead of a skip.

use crate::{DatabaseUrl, DbConnection, Store, connection::run_migrations};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

const DIGEST: &str = env!("CEP_MIGRATIONS_DIGEST");
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh, migrated SQLite database in a new temporary file.
    pub fn sqlite() -> TestDb {
        let dir =
            std::env::temp_dir().join(format!("cep-test-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = DatabaseUrl::Sqlite(dir.join("cep.db"));
        let store = Store::open_and_migrate(&url, 4).expect("open test SQLite database");
        TestDb {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh, migrated PostgreSQL database on the server of `CEP_TEST_POSTGRES_URL`, or
    /// `None` when it is not set.
    pub fn postgres() -> Option<TestDb> {
        let server = std::env::var("CEP_TEST_POSTGRES_URL")
            .ok()
            .filter(|s| !s.is_empty())?;
        let server = server.trim_end_matches('/').to_owned();
        let admin_url = format!("{server}/postgres");
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("CEP_TEST_POSTGRES_URL is set but {admin_url} refuses: {e}")
        });
        let template = ensure_template(&mut admin, &server);
        let name = format!("cep_t_{}_{}_{}", std::process::id(), unique(), nanos());
        let mut last = None;
        for _ in 0..20 {
            match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")) {
                Ok(()) => {
                    last = None;
                    break;
                }
                // Another process may be cloning or building the template at this instant.
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        }
        if let Some(e) = last {
            panic!("cannot create test database {name}: {e}");
        }
        let url = DatabaseUrl::parse(&format!("{server}/{name}")).expect("postgres URL");
        let store = Store::open_and_migrate(&url, 4).expect("open test PostgreSQL database");
        Some(TestDb {
            store,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub fn conn(&self) -> crate::PooledConnection {
        self.store.conn().expect("test database connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // The pool still holds connections: FORCE ends them before dropping.
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// Builds the migrated template database once per set of migrations (under an advisory lock,
/// built under a temporary name and renamed when complete, so a crash never leaves a
/// half-migrated template).
fn ensure_template(admin: &mut PgConnection, server: &str) -> String {
    use diesel::RunQueryDsl;
    let template = format!("cep_tpl_{DIGEST}");
    admin
        .batch_execute("SELECT pg_advisory_lock(727272)")
        .expect("advisory lock");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM pg_database WHERE datname = '{template}'"
    ))
    .get_result::<Count>(admin)
    .expect("query pg_database")
    .n > 0;
    if !exists {
        let building = format!("{template}_building");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .expect("drop stale template");
        admin
            .batch_execute(&format!("CREATE DATABASE {building}"))
            .expect("create template");
        {
            let mut c = DbConnection::Pg(
                PgConnection::establish(&format!("{server}/{building}")).expect("connect template"),
            );
            run_migrations(&mut c).expect("migrate template");
        }
        admin
            .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}"))
            .expect("rename template");
    }
    admin
        .batch_execute("SELECT pg_advisory_unlock(727272)")
        .expect("advisory unlock");
    template
}

fn unique() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

fn nanos() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Runs `body` once per available backend, each on a fresh database.
pub fn each_backend(body: impl Fn(&TestDb)) {
    body(&TestDb::sqlite());
    match TestDb::postgres() {
        Some(db) => body(&db),
        None if std::env::var("CEP_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("CEP_TEST_REQUIRE_POSTGRES=1 but CEP_TEST_POSTGRES_URL is not set")
        }
        None => {
            eprintln!("note: PostgreSQL half of this test skipped (CEP_TEST_POSTGRES_URL not set)")
        }
    }
}
