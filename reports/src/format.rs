//! Numbers, money, rates and dates written the French way (DESIGN: "dates, numbers and money in
//! reports are formatted the French way"): a narrow no-break space between thousands, a decimal
//! comma, a no-break space before `%` and `€`, months by name.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

/// Narrow no-break space (thousands).
const NNBSP: char = '\u{202F}';
/// No-break space (before `%`, `€`).
const NBSP: char = '\u{00A0}';

/// An integer with thousands separated: `1 234 567`.
pub fn integer(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(NNBSP);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A decimal number with `decimals` places, rounded half away from zero: `1 234,5`.
pub fn decimal(x: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let rounded = (x * scale).round() / scale;
    let text = format!("{:.*}", decimals, rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int: i64 = int.parse().unwrap_or(0);
    let sign = if rounded < 0.0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", integer(int))
    } else {
        format!("{sign}{},{frac}", integer(int))
    }
}

/// A share of 1 as a percentage with one decimal: `0.1234` → `12,3 %`. A share that one
/// decimal would round to `0,0 %` but is not zero (2.1, 2.2: persons against a population)
/// keeps two significant digits: `0.0000437` → `0,0044 %`.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p != 0.0 && p.abs() < 0.05 {
        let digits = (-p.abs().log10()).floor() as i32 + 2;
        return format!("{}{NBSP}%", decimal(p, digits.clamp(2, 8) as usize));
    }
    format!("{}{NBSP}%", decimal(p, 1))
}

/// Cents as euros: `123456` → `1 234,56 €`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}{NBSP}€", integer((c / 100) as i64), c % 100)
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `5 novembre 2025` (`1er` for the first day).
pub fn date(d: NaiveDate) -> String {
    let day = if d.day() == 1 {
        "1er".to_owned()
    } else {
        d.day().to_string()
    };
    format!("{day} {} {}", MONTHS[d.month0() as usize], d.year())
}

/// A cut-off, in Paris time: `5 novembre 2025 à 00 h 00`.
pub fn cutoff(utc: NaiveDateTime) -> String {
    let local = utc + chrono::Duration::hours(cep_domain::paris::offset_hours(utc));
    format!(
        "{} à {} h {:02}",
        date(local.date()),
        local.format("%H"),
        local.format("%M")
    )
}

/// `octobre 2025`.
pub fn month(m: cep_domain::YearMonth) -> String {
    format!("{} {}", MONTHS[(m.month() - 1) as usize], m.year())
}

/// `oct. 2025`-like short labels for chart axes: `10/2025`.
pub fn month_short(m: cep_domain::YearMonth) -> String {
    format!("{:02}/{}", m.month(), m.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_money_and_dates_are_written_the_french_way() {
        assert_eq!(integer(0), "0");
        assert_eq!(integer(999), "999");
        assert_eq!(integer(1_234_567), "1\u{202F}234\u{202F}567");
        assert_eq!(integer(-1000), "-1\u{202F}000");
        assert_eq!(decimal(1234.56, 1), "1\u{202F}234,6");
        assert_eq!(decimal(-0.25, 1), "-0,3");
        assert_eq!(decimal(2.0, 0), "2");
        assert_eq!(percent(0.1234), "12,3\u{A0}%");
        // Not rounded away: a small share keeps two significant digits.
        assert_eq!(percent(0.0000437), "0,0044\u{A0}%");
        assert_eq!(percent(0.0004), "0,040\u{A0}%");
        assert_eq!(percent(0.0), "0,0\u{A0}%");
        assert_eq!(euros(123_456), "1\u{202F}234,56\u{A0}€");
        assert_eq!(euros(5), "0,05\u{A0}€");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap()),
            "1er novembre 2025"
        );
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2025, 8, 15).unwrap()),
            "15 août 2025"
        );
        // 2025-11-04T23:00Z is midnight in Paris (winter time).
        assert_eq!(
            cutoff("2025-11-04T23:00:00".parse().unwrap()),
            "5 novembre 2025 à 00 h 00"
        );
    }
}
