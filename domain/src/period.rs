//! Calendar periods used by indicators, statements and reports: months (`AAAA-MM`),
//! quarters (`AAAA-Tq`, the quarterly consumption statement) and half-years (`AAAA-S1`,
//! `AAAA-S2`, the half-yearly indicators and the quality bonus).

use chrono::{Datelike, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// Why a period text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("expected a month AAAA-MM (e.g. 2025-10), got {0:?}")]
    Month(String),
    #[error("expected a quarter AAAA-Tq with q from 1 to 4 (e.g. 2025-T3), got {0:?}")]
    Quarter(String),
    #[error("expected a half-year AAAA-S1 or AAAA-S2 (e.g. 2025-S2), got {0:?}")]
    HalfYear(String),
}

fn parse_year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A calendar month (`mois`), written `AAAA-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// `None` unless `month` is 1..=12 and the year has four digits.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1000..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month })
    }
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn month(self) -> u32 {
        self.month
    }
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid by construction")
    }
    pub fn last_day(self) -> NaiveDate {
        self.succ()
            .first_day()
            .pred_opt()
            .expect("not the first day of time")
    }
    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Self {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        Self {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }
    pub fn succ(self) -> Self {
        self.plus(1)
    }
    pub fn contains(self, date: NaiveDate) -> bool {
        Self::of(date) == self
    }
    pub fn half_year(self) -> HalfYear {
        HalfYear {
            year: self.year,
            half: if self.month <= 6 { 1 } else { 2 },
        }
    }
    pub fn quarter(self) -> Quarter {
        Quarter {
            year: self.year,
            quarter: (self.month - 1) / 3 + 1,
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodError::Month(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if m.len() != 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        Self::new(
            parse_year(y).ok_or_else(err)?,
            m.parse().map_err(|_| err())?,
        )
        .ok_or_else(err)
    }
}

/// A calendar quarter (`trimestre`), written `AAAA-Tq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    quarter: u32,
}

impl Quarter {
    pub fn new(year: i32, quarter: u32) -> Option<Self> {
        ((1000..=9999).contains(&year) && (1..=4).contains(&quarter))
            .then_some(Self { year, quarter })
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn quarter(self) -> u32 {
        self.quarter
    }
    pub fn first_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.quarter * 3 - 2,
        }
    }
    pub fn last_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.quarter * 3,
        }
    }
    pub fn first_day(self) -> NaiveDate {
        self.first_month().first_day()
    }
    pub fn last_day(self) -> NaiveDate {
        self.last_month().last_day()
    }
    pub fn contains(self, date: NaiveDate) -> bool {
        YearMonth::of(date).quarter() == self
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-T{}", self.year, self.quarter)
    }
}

impl FromStr for Quarter {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodError::Quarter(s.to_owned());
        let (y, q) = s.split_once("-T").ok_or_else(err)?;
        if q.len() != 1 {
            return Err(err());
        }
        Self::new(
            parse_year(y).ok_or_else(err)?,
            q.parse().map_err(|_| err())?,
        )
        .ok_or_else(err)
    }
}

/// A half-year (`semestre`), written `AAAA-S1` (January–June) or `AAAA-S2` (July–December).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HalfYear {
    year: i32,
    half: u32,
}

impl HalfYear {
    pub fn new(year: i32, half: u32) -> Option<Self> {
        ((1000..=9999).contains(&year) && (1..=2).contains(&half)).then_some(Self { year, half })
    }
    pub fn year(self) -> i32 {
        self.year
    }
    pub fn half(self) -> u32 {
        self.half
    }
    pub fn first_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.half * 6 - 5,
        }
    }
    pub fn last_month(self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.half * 6,
        }
    }
    pub fn first_day(self) -> NaiveDate {
        self.first_month().first_day()
    }
    pub fn last_day(self) -> NaiveDate {
        self.last_month().last_day()
    }
    pub fn contains(self, date: NaiveDate) -> bool {
        YearMonth::of(date).half_year() == self
    }
}

impl fmt::Display for HalfYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-S{}", self.year, self.half)
    }
}

impl FromStr for HalfYear {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodError::HalfYear(s.to_owned());
        let (y, h) = s.split_once("-S").ok_or_else(err)?;
        if h.len() != 1 {
            return Err(err());
        }
        Self::new(
            parse_year(y).ok_or_else(err)?,
            h.parse().map_err(|_| err())?,
        )
        .ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn month_bounds_and_arithmetic() {
        let m: YearMonth = "2024-02".parse().unwrap();
        assert_eq!(m.first_day(), d("2024-02-01"));
        assert_eq!(m.last_day(), d("2024-02-29"));
        assert_eq!(m.plus(-3).to_string(), "2023-11");
        assert_eq!(m.plus(11).to_string(), "2025-01");
        assert_eq!(m.half_year().to_string(), "2024-S1");
        assert_eq!(
            "2025-10"
                .parse::<YearMonth>()
                .unwrap()
                .quarter()
                .to_string(),
            "2025-T4"
        );
    }

    #[test]
    fn periods_reject_malformed_text() {
        for bad in ["2025-13", "2025-1", "25-01", "2025/01", "2025-00", ""] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
        assert!("2025-T5".parse::<Quarter>().is_err());
        assert!("2025-S3".parse::<HalfYear>().is_err());
        assert_eq!(
            "2025-S2".parse::<HalfYear>().unwrap().first_day(),
            d("2025-07-01")
        );
        assert_eq!(
            "2025-T3".parse::<Quarter>().unwrap().last_day(),
            d("2025-09-30")
        );
    }
}
