//! A digest of every table's content (row count and SHA-256 of its rows, each row written as
//! text, sorted), so that a restored database can be proven identical to the one backed up
//! (`cep backup` records them, `cep restore` checks them). Comparable within one backend.

use crate::{DbConnection, Result, StoreError};
use diesel::prelude::*;
use diesel::sql_types::Text;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    line: Option<String>,
}

/// A table's rows and their digest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TableDigest {
    pub rows: u64,
    pub sha256: String,
}

fn query<
    T: 'static
        + diesel::deserialize::QueryableByName<diesel::pg::Pg>
        + diesel::deserialize::QueryableByName<diesel::sqlite::Sqlite>,
>(
    conn: &mut DbConnection,
    sql: &str,
) -> Result<Vec<T>> {
    crate::on_backend!(conn, |c| diesel::sql_query(sql).load::<T>(c))
        .map_err(StoreError::query("reading a table for its digest"))
}

/// Every table of the schema (migration bookkeeping included) with its digest.
pub fn table_digests(conn: &mut DbConnection) -> Result<BTreeMap<String, TableDigest>> {
    let pg = matches!(conn, DbConnection::Pg(_));
    let tables: Vec<Name> = query(
        conn,
        if pg {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        },
    )?;
    let mut out = BTreeMap::new();
    for Name { name: table } in tables {
        let columns: Vec<Column> = if pg {
            query(
                conn,
                &format!(
                    "SELECT column_name::text AS name, data_type::text AS kind FROM \
                     information_schema.columns WHERE table_schema = 'public' AND \
                     table_name = '{table}' ORDER BY ordinal_position"
                ),
            )?
        } else {
            query(
                conn,
                &format!(
                    "SELECT name, type AS kind FROM pragma_table_info('{table}') ORDER BY cid"
                ),
            )?
        };
        // Each cell as text (binary as hex), NULL as a mark no text can be, joined by a
        // separator no text holds.
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                let binary =
                    c.kind.eq_ignore_ascii_case("bytea") || c.kind.eq_ignore_ascii_case("blob");
                let text = match (binary, pg) {
                    (true, true) => format!("encode(\"{}\", 'hex')", c.name),
                    (true, false) => format!("hex(\"{}\")", c.name),
                    (false, _) => format!("CAST(\"{}\" AS TEXT)", c.name),
                };
                format!("COALESCE({text}, '\u{2205}')")
            })
            .collect();
        let sep = if pg {
            " || chr(31) || "
        } else {
            " || char(31) || "
        };
        let lines: Vec<Line> = query(
            conn,
            &format!("SELECT {} AS line FROM \"{table}\"", cells.join(sep)),
        )?;
        let mut lines: Vec<String> = lines
            .into_iter()
            .map(|l| l.line.unwrap_or_default())
            .collect();
        lines.sort();
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
            h.update(b"\n");
        }
        out.insert(
            table,
            TableDigest {
                rows: lines.len() as u64,
                sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            },
        );
    }
    Ok(out)
}
