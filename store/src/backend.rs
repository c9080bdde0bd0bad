//! The statements that differ between PostgreSQL and SQLite, and nowhere else.
//!
//! `diesel::MultiConnection` runs the common DSL on both backends but does not compile
//! `RETURNING`, upserts or multi-row inserts (see docs/development.md). Such statements are
//! written once and run on the concrete connection through [`on_backend!`].

/// Runs `$body` with `$c` bound to the concrete connection (`&mut PgConnection` or
/// `&mut SqliteConnection`). The body is written once and compiled for each backend.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Pg($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// `INSERT … RETURNING id` of one row on either backend.
#[macro_export]
macro_rules! insert_returning_id {
    ($conn:expr, $table:path, $id:path, $values:expr) => {{
        use diesel::RunQueryDsl as _;
        $crate::on_backend!($conn, |c| diesel::insert_into($table)
            .values($values)
            .returning($id)
            .get_result::<i64>(c))
    }};
}
