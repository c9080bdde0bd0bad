//! Plain structs for the rows of each table, with their own query functions.

pub mod access;
pub mod buyer;
pub mod deliverables;
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
    to_micros(chrono::Utc::now().naive_utc())
}

/// An instant truncated to the microsecond, the precision both backends store.
pub fn to_micros(t: NaiveDateTime) -> NaiveDateTime {
    chrono::DurationRound::duration_trunc(t, chrono::Duration::microseconds(1)).unwrap_or(t)
}
