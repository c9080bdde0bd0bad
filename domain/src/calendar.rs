//! French public holidays and working days (indicators-v1 "Working days", point 11), used for
//! the 30-working-day first-appointment rule (indicator 8.4).
//!
//! Working days are Monday to Friday minus public holidays: 1 January, Easter Monday, 1 May,
//! 8 May, Ascension, Whit Monday, 14 July, 15 August, 1 November, 11 November, 25 December;
//! plus Good Friday and 26 December in Alsace-Moselle (departments 57, 67, 68); plus the
//! abolition-of-slavery day in the overseas regions (Mayotte 27 April, Martinique 22 May,
//! Guadeloupe 27 May, Guyane 10 June, La Réunion 20 December).

use crate::lot::Lot;
use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// A calendar of public holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Calendar {
    Metropolitan,
    /// Moselle, Bas-Rhin, Haut-Rhin: Good Friday and 26 December besides the national days.
    AlsaceMoselle,
    Guadeloupe,
    Martinique,
    Guyane,
    Reunion,
    Mayotte,
}

/// Easter Sunday of `year` (Gregorian calendar; anonymous algorithm of Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("valid Easter date")
}

impl Calendar {
    /// The calendar of a dossier: that of its region (its lot, or `region_lot` for lot 19),
    /// and Alsace-Moselle for a Grand Est dossier whose `adresse_code_postal` starts with
    /// 57, 67 or 68 (point 11).
    pub fn for_region(region: Lot, postal_code: Option<&str>) -> Calendar {
        let base = region
            .region()
            .map_or(Calendar::Metropolitan, |r| r.calendar);
        let alsace_moselle = postal_code
            .is_some_and(|p| p.starts_with("57") || p.starts_with("67") || p.starts_with("68"));
        if region == Lot::GRAND_EST && alsace_moselle {
            Calendar::AlsaceMoselle
        } else {
            base
        }
    }

    /// The public holidays of `year`, with their French names, in date order.
    pub fn holidays(self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("fixed holiday");
        let easter = easter_sunday(year);
        let mut days = vec![
            (ymd(1, 1), "Jour de l'an"),
            (easter + Duration::days(1), "Lundi de Pâques"),
            (ymd(5, 1), "Fête du Travail"),
            (ymd(5, 8), "Victoire 1945"),
            (easter + Duration::days(39), "Ascension"),
            (easter + Duration::days(50), "Lundi de Pentecôte"),
            (ymd(7, 14), "Fête nationale"),
            (ymd(8, 15), "Assomption"),
            (ymd(11, 1), "Toussaint"),
            (ymd(11, 11), "Armistice 1918"),
            (ymd(12, 25), "Noël"),
        ];
        let abolition = |m, d| (ymd(m, d), "Abolition de l'esclavage");
        match self {
            Calendar::Metropolitan => {}
            Calendar::AlsaceMoselle => {
                days.push((easter - Duration::days(2), "Vendredi saint"));
                days.push((ymd(12, 26), "Saint-Étienne"));
            }
            Calendar::Mayotte => days.push(abolition(4, 27)),
            Calendar::Martinique => days.push(abolition(5, 22)),
            Calendar::Guadeloupe => days.push(abolition(5, 27)),
            Calendar::Guyane => days.push(abolition(6, 10)),
            Calendar::Reunion => days.push(abolition(12, 20)),
        }
        days.sort();
        days
    }

    pub fn is_holiday(self, date: NaiveDate) -> bool {
        self.holidays(date.year()).iter().any(|(d, _)| *d == date)
    }

    pub fn is_working_day(self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }
}

/// Weekdays (Monday–Friday) d with `from` < d ≤ `to`.
fn weekdays_after_until(from: NaiveDate, to: NaiveDate) -> i64 {
    // Count weekdays in [epoch, x] for both ends and subtract.
    fn upto(x: NaiveDate) -> i64 {
        let n = i64::from(x.num_days_from_ce()); // day 1 = Monday 0001-01-01
        let weeks = n.div_euclid(7);
        let rem = n.rem_euclid(7); // days of a partial week, starting Monday
        weeks * 5 + rem.min(5)
    }
    upto(to) - upto(from)
}

/// Working days d with `request` < d ≤ `first` on `calendar` (indicators point 11: a request
/// made on a holiday never counts itself). Negative when `first` is before `request`
/// (the same count, the other way).
pub fn working_days_between(calendar: Calendar, request: NaiveDate, first: NaiveDate) -> i64 {
    if first < request {
        return -working_days_between(calendar, first, request);
    }
    let holidays: i64 = (request.year()..=first.year())
        .flat_map(|y| calendar.holidays(y))
        .filter(|(d, _)| {
            *d > request && *d <= first && !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        })
        .count() as i64;
    weekdays_after_until(request, first) - holidays
}

/// The first date of a fiche's `dates_interactions` (`|`-separated; unreadable dates ignored).
pub fn first_interaction(dates_interactions: &str) -> Option<NaiveDate> {
    dates_interactions
        .split('|')
        .filter_map(|x| NaiveDate::parse_from_str(x.trim(), "%Y-%m-%d").ok())
        .min()
}

/// Indicator 8.4's delay: working days from the first-appointment request to the first
/// interaction, on the calendar of the region served (Alsace-Moselle by postal code).
pub fn rdv_delay(
    region: crate::Lot,
    postal_code: Option<&str>,
    request: Option<NaiveDate>,
    first: Option<NaiveDate>,
) -> Option<i64> {
    Some(working_days_between(
        Calendar::for_region(region, postal_code),
        request?,
        first?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn easter_based_holidays_of_known_years() {
        let easter_monday = |y| {
            Calendar::Metropolitan
                .holidays(y)
                .into_iter()
                .find(|h| h.1 == "Lundi de Pâques")
                .unwrap()
                .0
        };
        assert_eq!(easter_monday(2024), d("2024-04-01"));
        assert_eq!(easter_monday(2025), d("2025-04-21"));
        assert_eq!(easter_monday(2026), d("2026-04-06"));
        assert_eq!(easter_sunday(2019), d("2019-04-21"));
        let h2025 = Calendar::Metropolitan.holidays(2025);
        assert!(h2025.contains(&(d("2025-05-29"), "Ascension")));
        assert!(h2025.contains(&(d("2025-06-09"), "Lundi de Pentecôte")));
        assert_eq!(h2025.len(), 11);
    }

    #[test]
    fn alsace_moselle_adds_good_friday_and_26_december() {
        let grand_est = Lot::GRAND_EST;
        assert_eq!(
            Calendar::for_region(grand_est, Some("57000")),
            Calendar::AlsaceMoselle
        );
        assert_eq!(
            Calendar::for_region(grand_est, Some("67100")),
            Calendar::AlsaceMoselle
        );
        assert_eq!(
            Calendar::for_region(grand_est, Some("51100")),
            Calendar::Metropolitan
        );
        assert_eq!(
            Calendar::for_region(Lot::parse("01").unwrap(), Some("67100")),
            Calendar::Metropolitan
        );
        assert!(Calendar::AlsaceMoselle.is_holiday(d("2025-04-18")));
        assert!(!Calendar::Metropolitan.is_holiday(d("2025-04-18")));
        assert!(Calendar::AlsaceMoselle.is_holiday(d("2025-12-26")));
    }

    #[test]
    fn overseas_abolition_days() {
        let cal = |lot: &str| Calendar::for_region(Lot::parse(lot).unwrap(), None);
        assert!(cal("18").is_holiday(d("2025-04-27")), "Mayotte");
        assert!(cal("15").is_holiday(d("2025-05-22")), "Martinique");
        assert!(cal("14").is_holiday(d("2025-05-27")), "Guadeloupe");
        assert!(cal("17").is_holiday(d("2025-06-10")), "Guyane");
        assert!(cal("13").is_holiday(d("2025-12-20")), "La Réunion");
        assert!(!cal("01").is_holiday(d("2025-06-10")));
        // Lot 19 serving Guyane uses Guyane's calendar through its region_lot.
        assert_eq!(
            Calendar::for_region(Lot::parse("17").unwrap(), None),
            Calendar::Guyane
        );
    }

    #[test]
    fn point_11_working_days_count_after_the_request_up_to_the_first_interaction() {
        let m = Calendar::Metropolitan;
        // Monday 2025-04-14 → Tuesday 2025-04-22: 15,16,17,18, (21 Easter Monday), 22 = 5.
        assert_eq!(working_days_between(m, d("2025-04-14"), d("2025-04-22")), 5);
        assert_eq!(working_days_between(m, d("2025-04-14"), d("2025-04-14")), 0);
        // A request on a holiday never counts itself: 2025-05-01 (Thu) → 2025-05-02 (Fri) = 1.
        assert_eq!(working_days_between(m, d("2025-05-01"), d("2025-05-02")), 1);
        // Alsace-Moselle loses Good Friday: 2025-04-14 → 2025-04-22 = 4.
        assert_eq!(
            working_days_between(Calendar::AlsaceMoselle, d("2025-04-14"), d("2025-04-22")),
            4
        );
        // Across a year end (26, 29, 30, 31 Dec, 2 Jan); 26 December is a holiday only in Alsace-Moselle.
        assert_eq!(working_days_between(m, d("2025-12-24"), d("2026-01-02")), 5);
        assert_eq!(
            working_days_between(Calendar::AlsaceMoselle, d("2025-12-24"), d("2026-01-02")),
            4
        );
        assert_eq!(
            working_days_between(m, d("2025-04-22"), d("2025-04-14")),
            -5
        );
    }

    proptest! {
        #[test]
        fn arithmetic_count_equals_day_by_day_count(start in 0i64..3000, len in 0i64..120, which in 0usize..7) {
            let cals = [Calendar::Metropolitan, Calendar::AlsaceMoselle, Calendar::Guadeloupe, Calendar::Martinique,
                        Calendar::Guyane, Calendar::Reunion, Calendar::Mayotte];
            let cal = cals[which];
            let from = d("2019-12-01") + Duration::days(start);
            let to = from + Duration::days(len);
            let slow = (1..=len).map(|i| from + Duration::days(i)).filter(|x| cal.is_working_day(*x)).count() as i64;
            prop_assert_eq!(working_days_between(cal, from, to), slow);
        }
    }
}
