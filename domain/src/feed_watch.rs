//! Feed monitoring (tender Annex 3 §2: daily transmission is the rule; issue 23.3): a lot's day
//! of `DOSSIERS` feeds is missing, late, or much smaller than usual. The thresholds are the
//! service's decisions, written in `docs/operateurs.md`.

use chrono::{NaiveDateTime, Timelike};

/// A day's first feed received at or after this hour (Europe/Paris) is late: it misses the
/// daily processing run of the evening.
pub const DEADLINE_HOUR: u32 = 20;
/// A day's lines under this share of the usual (the median of the previous days with a feed)
/// are "much smaller than usual".
pub const SMALL_SHARE: f64 = 0.5;
/// Days looked back for the usual volume.
pub const HISTORY_DAYS: i64 = 28;
/// Days with a feed needed before a volume is called small.
pub const MIN_HISTORY: usize = 7;

/// What a lot sent on one day: its accepted `DOSSIERS` feeds (files, pushes, pulled pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayOfFeeds {
    /// The first accepted feed's reception, in Paris time.
    pub first_at: Option<NaiveDateTime>,
    /// Lines of the day's accepted feeds.
    pub lines: u64,
    /// Feeds of the day rejected whole (they do not count as a transmission).
    pub rejected: u32,
}

/// The day judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedWatch {
    pub missing: bool,
    pub late: bool,
    pub small: bool,
    /// The median of the lines of the previous days with a feed, when there are enough.
    pub usual_lines: Option<u64>,
}

impl FeedWatch {
    pub fn ok(&self) -> bool {
        !(self.missing || self.late || self.small)
    }
}

/// Judges a day against `history`: the lines of each previous day (within [`HISTORY_DAYS`])
/// on which the lot sent an accepted feed.
pub fn watch(day: &DayOfFeeds, history: &[u64]) -> FeedWatch {
    let usual_lines = (history.len() >= MIN_HISTORY).then(|| {
        let mut h = history.to_vec();
        h.sort_unstable();
        let n = h.len();
        if n % 2 == 1 {
            h[n / 2]
        } else {
            (h[n / 2 - 1] + h[n / 2]).div_ceil(2)
        }
    });
    let missing = day.first_at.is_none();
    FeedWatch {
        missing,
        late: day.first_at.is_some_and(|t| t.hour() >= DEADLINE_HOUR),
        small: !missing && usual_lines.is_some_and(|u| (day.lines as f64) < SMALL_SHARE * u as f64),
        usual_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Option<NaiveDateTime> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn annex_3_a_daily_feed_is_missing_late_or_much_smaller_than_usual() {
        let usual = [100, 120, 90, 110, 100, 95, 105];
        let on_time = DayOfFeeds {
            first_at: at("2025-03-12T08:00:00"),
            lines: 98,
            rejected: 0,
        };
        let w = watch(&on_time, &usual);
        assert!(w.ok(), "{w:?}");
        assert_eq!(w.usual_lines, Some(100));
        assert!(watch(&DayOfFeeds::default(), &usual).missing);
        // A rejected file is no transmission.
        assert!(
            watch(
                &DayOfFeeds {
                    rejected: 1,
                    ..Default::default()
                },
                &usual
            )
            .missing
        );
        let late = DayOfFeeds {
            first_at: at("2025-03-12T20:00:00"),
            ..on_time
        };
        assert!(watch(&late, &usual).late);
        let evening = DayOfFeeds {
            first_at: at("2025-03-12T19:59:59"),
            ..on_time
        };
        assert!(!watch(&evening, &usual).late);
        // Under half the median: small; half exactly is not.
        assert!(
            watch(
                &DayOfFeeds {
                    lines: 49,
                    ..on_time
                },
                &usual
            )
            .small
        );
        assert!(
            !watch(
                &DayOfFeeds {
                    lines: 50,
                    ..on_time
                },
                &usual
            )
            .small
        );
        // Too little history to call anything small.
        assert!(
            !watch(
                &DayOfFeeds {
                    lines: 1,
                    ..on_time
                },
                &usual[..6]
            )
            .small
        );
    }
}
