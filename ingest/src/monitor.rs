//! Feed monitoring (Annex 3 §2, issue 23.3): for a day, each lot with an operator in office
//! that day, whether its `DOSSIERS` feed is missing, late or much smaller than usual
//! ([`cep_domain::feed_watch`]).

use crate::pipeline::IngestError;
use cep_domain::feed_watch::{self, DayOfFeeds, FeedWatch};
use cep_domain::paris;
use cep_store::DbConnection;
use cep_store::models::buyer::Operator;
use cep_store::models::receipts::dossiers_receipts_between;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;
use std::collections::BTreeMap;

/// One lot's day.
#[derive(Debug, Clone, Serialize)]
pub struct LotFeedDay {
    pub lot: String,
    pub day: NaiveDate,
    /// Accepted `DOSSIERS` feeds of the day, and their lines.
    pub feeds: u32,
    pub lines: u64,
    pub rejected: u32,
    /// The first accepted feed's reception, Paris time (`AAAA-MM-JJTHH:MM:SS`).
    pub first_at: Option<NaiveDateTime>,
    pub usual_lines: Option<u64>,
    pub missing: bool,
    pub late: bool,
    pub small: bool,
}

/// A lot's day as received, and its number of accepted feeds.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    day: DayOfFeeds,
    feeds: u32,
}

/// Every lot's `day` (Paris): the lots whose operator is in office on that day.
pub fn feeds_of_day(
    conn: &mut DbConnection,
    day: NaiveDate,
) -> Result<Vec<LotFeedDay>, IngestError> {
    // Read from the earliest history day to the end of `day`, with margin for the offset.
    let start = day - Duration::days(feed_watch::HISTORY_DAYS);
    let from = start.and_hms_opt(0, 0, 0).expect("midnight") - Duration::hours(3);
    let to = (day + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        + Duration::hours(3);
    let receipts = dossiers_receipts_between(conn, from, to)?;
    // lot → Paris day → what was received
    let mut days: BTreeMap<String, BTreeMap<NaiveDate, Tally>> = BTreeMap::new();
    for r in &receipts {
        let Some(lot) = &r.lot else { continue };
        let local = r.received_at + Duration::hours(paris::offset_hours(r.received_at));
        let d = local.date();
        if d < start || d > day {
            continue;
        }
        let e = days.entry(lot.clone()).or_default().entry(d).or_default();
        match r.status.as_str() {
            "accepted" => {
                e.day.first_at = Some(e.day.first_at.map_or(local, |t| t.min(local)));
                e.feeds += 1;
                e.day.lines += u64::try_from(r.lines_total).unwrap_or(0);
            }
            "rejected" => e.day.rejected += 1,
            _ => {}
        }
    }
    let mut lots: Vec<String> = Operator::all_current(conn)?
        .into_iter()
        .filter(|o| o.date_debut <= day && o.date_fin.is_none_or(|f| f >= day))
        .map(|o| o.lot)
        .collect();
    lots.sort();
    lots.dedup();
    Ok(lots
        .into_iter()
        .map(|lot| {
            let of_lot = days.get(&lot);
            let Tally { day: today, feeds } = of_lot
                .and_then(|m| m.get(&day))
                .copied()
                .unwrap_or_default();
            let DayOfFeeds {
                first_at,
                lines,
                rejected,
            } = today;
            let history: Vec<u64> = of_lot
                .map(|m| {
                    m.iter()
                        .filter(|(d, v)| **d < day && v.feeds > 0)
                        .map(|(_, v)| v.day.lines)
                        .collect()
                })
                .unwrap_or_default();
            let FeedWatch {
                missing,
                late,
                small,
                usual_lines,
            } = feed_watch::watch(&today, &history);
            LotFeedDay {
                lot,
                day,
                feeds,
                lines,
                rejected,
                first_at,
                usual_lines,
                missing,
                late,
                small,
            }
        })
        .collect())
}
