//! Plain structs for the rows of each table, with their own query functions.

pub mod access;
pub mod buyer;
pub mod dossiers;
pub mod indicators;
pub mod ingest;
pub mod link;
pub mod receipts;
pub mod reports;
pub mod retention;

use chrono::NaiveDateTime;

/// The current time, in UTC, at the microsecond precision both backends store.
pub fn now_utc() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
}
