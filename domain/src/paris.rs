//! Civil time in Europe/Paris (metropolitan France): CET (UTC+1) in winter, CEST (UTC+2) from
//! the last Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC (EU rule).
//! Cut-offs and reception days are compared as Paris calendar dates (indicators spec).

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month, 31).expect("March and October have 31 days");
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt().expect("a date in range");
    }
    d
}

/// Whether summer time (UTC+2) is in force for most of `day` (from its start when the change
/// happens that night, as the change is at 02:00/03:00 local).
pub fn summer_time_on(day: NaiveDate) -> bool {
    day >= last_sunday(day.year(), 3) && day < last_sunday(day.year(), 10)
}

/// The offset from UTC, in hours, at the UTC instant `utc`.
pub fn offset_hours(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let start = last_sunday(year, 3)
        .and_hms_opt(1, 0, 0)
        .expect("valid time");
    let end = last_sunday(year, 10)
        .and_hms_opt(1, 0, 0)
        .expect("valid time");
    if utc >= start && utc < end { 2 } else { 1 }
}

/// The Paris calendar date of the UTC instant `utc`.
pub fn date_of(utc: NaiveDateTime) -> NaiveDate {
    (utc + Duration::hours(offset_hours(utc))).date()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn late_evening_utc_is_already_the_next_day_in_paris() {
        assert_eq!(
            date_of(at("2025-01-14 23:30:00")),
            NaiveDate::from_ymd_opt(2025, 1, 15).unwrap()
        );
        assert_eq!(
            date_of(at("2025-07-14 22:30:00")),
            NaiveDate::from_ymd_opt(2025, 7, 15).unwrap()
        );
        assert_eq!(
            date_of(at("2025-07-14 21:30:00")),
            NaiveDate::from_ymd_opt(2025, 7, 14).unwrap()
        );
    }

    #[test]
    fn summer_time_changes_on_the_last_sundays_of_march_and_october() {
        // 2025: 30 March and 26 October.
        assert_eq!(offset_hours(at("2025-03-30 00:59:59")), 1);
        assert_eq!(offset_hours(at("2025-03-30 01:00:00")), 2);
        assert_eq!(offset_hours(at("2025-10-26 00:59:59")), 2);
        assert_eq!(offset_hours(at("2025-10-26 01:00:00")), 1);
        assert!(summer_time_on(
            NaiveDate::from_ymd_opt(2025, 3, 30).unwrap()
        ));
        assert!(!summer_time_on(
            NaiveDate::from_ymd_opt(2025, 10, 26).unwrap()
        ));
    }
}
