//! Received files and bodies (DESIGN decision 3: stored, content-addressed, before parsing).

use crate::schema::receipts;
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A received file or body as it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = receipts)]
pub struct Receipt {
    pub id: i64,
    pub sha256: String,
    pub lot: Option<String>,
    pub kind: Option<String>,
    pub channel: String,
    pub file_name: String,
    pub size_bytes: i64,
    pub received_at: NaiveDateTime,
    pub received_at_override: bool,
    pub archive_path: String,
    pub status: String,
    pub processed_at: Option<NaiveDateTime>,
    pub lines_total: i32,
    pub lines_accepted: i32,
    pub lines_quarantined: i32,
    pub warnings: i32,
}

/// A reception about to be recorded.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = receipts)]
pub struct NewReceipt<'a> {
    pub sha256: &'a str,
    pub lot: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub channel: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
    pub received_at: NaiveDateTime,
    pub received_at_override: bool,
    pub archive_path: &'a str,
    pub status: &'a str,
    pub lines_total: i32,
    pub lines_accepted: i32,
    pub lines_quarantined: i32,
    pub warnings: i32,
}

impl NewReceipt<'_> {
    /// Records the reception; returns its id.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, receipts::table, receipts::id, self)
            .map_err(StoreError::query("recording a receipt"))
    }

    /// The receipt as [`NewReceipt::insert`] recorded it under `id` (without reading it back).
    pub fn recorded(&self, id: i64) -> Receipt {
        Receipt {
            id,
            sha256: self.sha256.to_owned(),
            lot: self.lot.map(str::to_owned),
            kind: self.kind.map(str::to_owned),
            channel: self.channel.to_owned(),
            file_name: self.file_name.to_owned(),
            size_bytes: self.size_bytes,
            received_at: self.received_at,
            received_at_override: self.received_at_override,
            archive_path: self.archive_path.to_owned(),
            status: self.status.to_owned(),
            processed_at: None,
            lines_total: self.lines_total,
            lines_accepted: self.lines_accepted,
            lines_quarantined: self.lines_quarantined,
            warnings: self.warnings,
        }
    }
}

impl Receipt {
    /// The receipt of this exact content, if it was already received (whatever its name).
    pub fn find_by_sha256(conn: &mut DbConnection, sha256: &str) -> Result<Option<Receipt>> {
        receipts::table
            .filter(receipts::sha256.eq(sha256))
            .select(Receipt::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("looking up a receipt by content hash"))
    }

    /// Records the outcome of processing.
    pub fn finish(
        conn: &mut DbConnection,
        id: i64,
        status: &str,
        counts: [i32; 4],
        at: NaiveDateTime,
    ) -> Result<()> {
        diesel::update(receipts::table.find(id))
            .set((
                receipts::status.eq(status),
                receipts::processed_at.eq(Some(at)),
                receipts::lines_total.eq(counts[0]),
                receipts::lines_accepted.eq(counts[1]),
                receipts::lines_quarantined.eq(counts[2]),
                receipts::warnings.eq(counts[3]),
            ))
            .execute(conn)
            .map(drop)
            .map_err(StoreError::query("recording the outcome of a receipt"))
    }

    /// Sets a processed receipt's warning count (warnings added after identity resolution).
    pub fn set_warnings(conn: &mut DbConnection, id: i64, warnings: i32) -> Result<()> {
        diesel::update(receipts::table.find(id))
            .set(receipts::warnings.eq(warnings))
            .execute(conn)
            .map(drop)
            .map_err(StoreError::query("updating a receipt's warnings"))
    }
}

/// A `DOSSIERS` feed received (file, push or pulled page), for feed monitoring.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct DossiersReceipt {
    pub lot: Option<String>,
    pub received_at: NaiveDateTime,
    pub status: String,
    pub lines_total: i32,
}

/// The `DOSSIERS` feeds received in `[from, to)` (UTC), whatever their channel: file names
/// `CEP_L{ll}_DOSSIERS_…`, pushes `api_L{ll}_DOSSIERS_…`, pulled pages `PULL_L{ll}_DOSSIERS_…`.
pub fn dossiers_receipts_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<DossiersReceipt>> {
    receipts::table
        .filter(receipts::received_at.ge(from))
        .filter(receipts::received_at.lt(to))
        .filter(receipts::file_name.like("%DOSSIERS%"))
        .order(receipts::received_at)
        .select((
            receipts::lot,
            receipts::received_at,
            receipts::status,
            receipts::lines_total,
        ))
        .load(conn)
        .map_err(StoreError::query("reading the feeds received"))
}
