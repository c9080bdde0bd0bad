//! Field syntax shared by every record kind (spec §3, points 4–7): trimming, dates, months,
//! timestamps, `O`/`N`, decimals, lists, lengths.

use chrono::{DateTime, FixedOffset, NaiveDate};

/// Trims ASCII spaces, tabs and U+00A0 around a value (point 4); `None` when nothing is left.
pub fn trimmed(raw: &str) -> Option<&str> {
    let t = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\u{A0}');
    (!t.is_empty()).then_some(t)
}

/// Free text keeps its spaces; whitespace-only is still empty (point 4).
pub fn free_text(raw: &str) -> Option<&str> {
    trimmed(raw).map(|_| raw)
}

fn digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// `AAAA-MM-JJ`, a real date.
pub fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(&b[..4])
        || !digits(&b[5..7])
        || !digits(&b[8..])
    {
        return None;
    }
    NaiveDate::from_ymd_opt(
        s[..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..].parse().ok()?,
    )
}

/// `AAAA-MM`: (year, month).
pub fn month(s: &str) -> Option<(i32, u32)> {
    let b = s.as_bytes();
    if b.len() != 7 || b[4] != b'-' || !digits(&b[..4]) || !digits(&b[5..]) {
        return None;
    }
    let m: u32 = s[5..].parse().ok()?;
    (1..=12)
        .contains(&m)
        .then(|| (s[..4].parse().ok(), m))
        .and_then(|(y, m)| Some((y?, m)))
}

/// `AAAA-MM-JJTHH:MM:SS[.ffffff](Z|±HH:MM)` (point 6); no offset is an error.
pub fn timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    date(&s[..10])?;
    if !digits(&b[11..13]) || !digits(&b[14..16]) || !digits(&b[17..19]) {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > 6 {
            return None;
        }
        rest = &r[n..];
    }
    let offset_ok = rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'
            && digits(&rest.as_bytes()[1..3])
            && digits(&rest.as_bytes()[4..]));
    if !offset_ok {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// `O` / `N` (point 6).
pub fn boolean(s: &str) -> Option<bool> {
    match s {
        "O" => Some(true),
        "N" => Some(false),
        _ => None,
    }
}

/// A decimal amount with at most 2 decimals, `.` or `,`, no sign, grouping or exponent
/// (point 6), in hundredths.
pub fn hundredths(s: &str) -> Option<i64> {
    let s = s.replace(',', ".");
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s.as_str(), ""),
    };
    if int.is_empty()
        || !digits(int.as_bytes())
        || !digits(frac.as_bytes())
        || frac.len() > 2
        || int.len() > 15
    {
        return None;
    }
    if s.contains('.') && frac.is_empty() {
        return None;
    }
    let i: i64 = int.parse().ok()?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    i.checked_mul(100)?.checked_add(f)
}

/// A non-negative integer count.
pub fn count(s: &str) -> Option<i64> {
    (digits(s.as_bytes()) && !s.is_empty() && s.len() <= 15)
        .then(|| s.parse().ok())
        .flatten()
}

/// Why a list is malformed (point 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    EmptyElement,
    TooMany(usize),
    ElementTooLong(usize),
}

/// Splits a list on `|`, trimming each element (point 5). Duplicates are kept here.
pub fn list(s: &str) -> Result<Vec<&str>, ListError> {
    let mut out = Vec::new();
    for e in s.split('|') {
        let Some(t) = trimmed(e) else {
            return Err(ListError::EmptyElement);
        };
        if t.chars().count() > 64 {
            return Err(ListError::ElementTooLong(64));
        }
        out.push(t);
    }
    if out.len() > 500 {
        return Err(ListError::TooMany(500));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_4_trims_spaces_tabs_and_nbsp() {
        assert_eq!(trimmed(" \t\u{A0}CDI\u{A0} "), Some("CDI"));
        assert_eq!(trimmed(" \t "), None);
        assert_eq!(free_text("  texte  "), Some("  texte  "));
    }

    #[test]
    fn point_6_timestamps_need_an_offset() {
        assert!(timestamp("2025-10-14T18:02:11+02:00").is_some());
        assert!(timestamp("2025-10-14T18:02:11.123456Z").is_some());
        assert!(timestamp("2025-10-14T18:02:11").is_none());
        assert!(timestamp("2025-10-14 18:02:11+02:00").is_none());
        assert!(timestamp("2025-02-30T18:02:11+02:00").is_none());
    }

    #[test]
    fn point_6_decimals_and_dates() {
        assert_eq!(hundredths("12,5"), Some(1250));
        assert_eq!(hundredths("0.07"), Some(7));
        assert_eq!(hundredths("-1"), None);
        assert_eq!(hundredths("1.234"), None);
        assert_eq!(hundredths("1e3"), None);
        assert_eq!(hundredths("1 000"), None);
        assert!(date("2025-02-29").is_none());
        assert!(date("29/02/2024").is_none());
        assert_eq!(month("2025-13"), None);
        assert_eq!(month("2025-01"), Some((2025, 1)));
    }

    #[test]
    fn point_5_list_elements_are_trimmed_and_never_empty() {
        assert_eq!(list(" CPF | OPCO ").unwrap(), vec!["CPF", "OPCO"]);
        assert_eq!(list("CPF||OPCO"), Err(ListError::EmptyElement));
    }
}
