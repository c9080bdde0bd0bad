//! The NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale"), spec §6.4 and
//! point 19: 13 characters and a two-digit key.
//!
//! | chars | part |
//! |---|---|
//! | 1 | sex: 1 man, 2 woman; 3/4/7/8 provisional numbers (odd = man, even = woman) |
//! | 2–3 | year of birth (two digits) |
//! | 4–5 | month of birth `01`–`12`, or 20–42 / 50–99 when unknown |
//! | 6–7 | department (`2A`/`2B` Corsica, `99` born abroad) — or 6–8 for overseas `97x`/`98x` |
//! | 8–10 | commune (3 digits) — or 9–10 overseas (2 digits) |
//! | 11–13 | order number in the commune's register for that month |
//! | 14–15 | key = 97 − (N mod 97), N the 13 characters as a number with 2A→19, 2B→18 |
//!
//! A NIR is personal data: it lives with the identity fields, never with activity data.

use chrono::{Datelike, NaiveDate};
use std::fmt;

/// The sex recorded on a fiche (`sexe`: `1` man, `2` woman).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Man,
    Woman,
}

impl Sex {
    pub fn from_code(s: &str) -> Option<Sex> {
        match s {
            "1" => Some(Sex::Man),
            "2" => Some(Sex::Woman),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Sex::Man => "1",
            Sex::Woman => "2",
        }
    }
}

/// Why a NIR is malformed or its key wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NirError {
    #[error("NIR must be 15 characters (13 + 2-digit key) once spaces are removed, got {0}")]
    Length(usize),
    #[error("NIR: sex digit (character 1) must be 1, 2, 3, 4, 7 or 8")]
    Sex,
    #[error("NIR: year of birth (characters 2-3) must be two digits")]
    Year,
    #[error("NIR: month of birth (characters 4-5) must be 01 to 12, 20 to 42 or 50 to 99")]
    Month,
    #[error("NIR: department (characters 6-7) must be two digits, 2A, 2B, or 97x/98x for overseas")]
    Department,
    #[error("NIR: commune (characters 8-10) must be digits")]
    Commune,
    #[error("NIR: order number (characters 11-13) must be three digits, not 000")]
    Order,
    #[error("NIR: key (characters 14-15) must be two digits from 01 to 97")]
    KeyFormat,
    /// Well-formed, but the key does not match the 13 characters (`NIR_KEY`).
    #[error("NIR key does not match: expected {expected:02}, got {got:02}")]
    Key { expected: u8, got: u8 },
}

impl NirError {
    /// True for a well-formed NIR whose key is wrong (`NIR_KEY`), false for a malformed one
    /// (`FIELD_FORMAT`).
    pub fn is_key_error(&self) -> bool {
        matches!(self, NirError::Key { .. })
    }
}

/// What a valid NIR contradicts on its fiche (`NIR_MISMATCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NirMismatch {
    Sex,
    BirthYear,
    BirthMonth,
}

/// A NIR whose structure and key are valid. Stored normalised: no spaces, letters upper-case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nir(String);

impl fmt::Debug for Nir {
    // Personal data: never printed whole in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nir({}…)", &self.0[..1])
    }
}

/// Removes spaces and upper-cases letters (spec point 19).
pub fn normalise(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

fn digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// The key of 13 normalised characters (structure already checked).
fn key_of(body: &str) -> u8 {
    let numeric = body.replacen("2A", "19", 1).replacen("2B", "18", 1);
    // Corsica letters sit at characters 6-7 only; the structure check guarantees that.
    let n: u64 = numeric
        .parse()
        .expect("13 digits after Corsica substitution");
    (97 - n % 97) as u8
}

impl Nir {
    /// Checks structure then key. A malformed NIR and a wrong key are told apart by
    /// [`NirError::is_key_error`].
    pub fn parse(raw: &str) -> Result<Nir, NirError> {
        let s = normalise(raw);
        let n = s.chars().count();
        if n != 15 || !s.is_ascii() {
            return Err(NirError::Length(n));
        }
        let b = s.as_bytes();
        if !matches!(b[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
            return Err(NirError::Sex);
        }
        if !digits(&s[1..3]) {
            return Err(NirError::Year);
        }
        let month: u8 = if digits(&s[3..5]) {
            s[3..5].parse().expect("digits")
        } else {
            0
        };
        if !matches!(month, 1..=12 | 20..=42 | 50..=99) {
            return Err(NirError::Month);
        }
        let dept = &s[5..7];
        let commune = match dept {
            "2A" | "2B" => &s[7..10],
            "97" | "98" => {
                if !digits(&s[7..8]) {
                    return Err(NirError::Department);
                }
                &s[8..10]
            }
            // 20: people born in Corsica before 1976 kept the undivided department.
            d if digits(d) && d != "00" => &s[7..10],
            _ => return Err(NirError::Department),
        };
        if !digits(commune) {
            return Err(NirError::Commune);
        }
        if !digits(&s[10..13]) || &s[10..13] == "000" {
            return Err(NirError::Order);
        }
        let got: u8 = if digits(&s[13..15]) {
            s[13..15].parse().expect("digits")
        } else {
            0
        };
        if !(1..=97).contains(&got) {
            return Err(NirError::KeyFormat);
        }
        let expected = key_of(&s[..13]);
        if expected != got {
            return Err(NirError::Key { expected, got });
        }
        Ok(Nir(s))
    }

    /// Builds a valid NIR from its 13 characters by computing the key (for generators and tests).
    pub fn with_key(body: &str) -> Result<Nir, NirError> {
        let body = normalise(body);
        if body.len() != 13 {
            return Err(NirError::Length(body.len() + 2));
        }
        let candidate = format!("{body}00");
        match Nir::parse(&candidate) {
            Err(NirError::KeyFormat) => Nir::parse(&format!("{body}{:02}", key_of(&body))),
            Err(e) => Err(e),
            Ok(_) => unreachable!("key 00 is never valid"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sex the NIR encodes: odd first digit = man, even = woman (point 19).
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[0] - b'0') % 2 == 1 {
            Sex::Man
        } else {
            Sex::Woman
        }
    }
    /// Two-digit year of birth.
    pub fn birth_year2(&self) -> u8 {
        self.0[1..3].parse().expect("checked")
    }
    /// Month of birth when known (01–12), `None` for the conventional unknown values.
    pub fn birth_month(&self) -> Option<u8> {
        let m: u8 = self.0[3..5].parse().expect("checked");
        (1..=12).contains(&m).then_some(m)
    }
    /// Department of birth: two characters, or three for overseas (`971`…`989`).
    pub fn department(&self) -> &str {
        match &self.0[5..7] {
            "97" | "98" => &self.0[5..8],
            _ => &self.0[5..7],
        }
    }

    /// What this NIR contradicts among the fiche's sex and birth date (`NIR_MISMATCH`): sex
    /// by parity, year modulo 100, month only when the NIR's month is 01–12.
    pub fn mismatches(&self, sex: Option<Sex>, birth: Option<NaiveDate>) -> Vec<NirMismatch> {
        let mut out = Vec::new();
        if sex.is_some_and(|s| s != self.sex()) {
            out.push(NirMismatch::Sex);
        }
        if let Some(b) = birth {
            if b.year().rem_euclid(100) as u8 != self.birth_year2() {
                out.push(NirMismatch::BirthYear);
            }
            if self
                .birth_month()
                .is_some_and(|m| u32::from(m) != b.month())
            {
                out.push(NirMismatch::BirthMonth);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_6_4_key_is_97_minus_n_mod_97() {
        // 1 85 05 78 006 084 → N = 1850578006084, N mod 97 = 6, key 91.
        assert_eq!(key_of("1850578006084"), 91);
        let nir = Nir::parse("1 85 05 78 006 084 91").unwrap();
        assert_eq!(nir.as_str(), "185057800608491");
        assert_eq!(nir.sex(), Sex::Man);
        assert_eq!(nir.birth_month(), Some(5));
        assert_eq!(nir.department(), "78");
        assert_eq!(
            Nir::parse("185057800608492").unwrap_err(),
            NirError::Key {
                expected: 91,
                got: 92
            }
        );
    }

    #[test]
    fn spec_6_4_corsica_2a_counts_as_19_and_2b_as_18() {
        let a = Nir::with_key("290062A123456").unwrap();
        let expected = 97 - (2_900_619_123_456u64 % 97);
        assert_eq!(u64::from(a.as_str()[13..].parse::<u8>().unwrap()), expected);
        let b = Nir::with_key("175012b004012").unwrap();
        assert_eq!(
            u64::from(b.as_str()[13..].parse::<u8>().unwrap()),
            97 - (1_750_118_004_012u64 % 97)
        );
        assert_eq!(b.department(), "2B");
        // Lower-case letters are upper-cased before use (point 4, point 19).
        assert!(Nir::parse(&b.as_str().to_lowercase()).is_ok());
    }

    #[test]
    fn spec_6_4_overseas_three_digit_department() {
        let r = Nir::with_key("2881097412345").unwrap();
        assert_eq!(r.department(), "974");
        assert_eq!(
            Nir::parse("28810974123450").unwrap_err(),
            NirError::Length(14)
        );
        assert_eq!(
            Nir::with_key("288109A412345").unwrap_err(),
            NirError::Department
        );
    }

    #[test]
    fn point_19_structure_errors_are_told_apart_from_key_errors() {
        assert_eq!(Nir::parse("585057800608491").unwrap_err(), NirError::Sex);
        assert_eq!(Nir::parse("1X5057800608491").unwrap_err(), NirError::Year);
        assert_eq!(Nir::parse("185137800608491").unwrap_err(), NirError::Month);
        assert_eq!(
            Nir::parse("185050000608491").unwrap_err(),
            NirError::Department
        );
        assert_eq!(Nir::parse("185057800600091").unwrap_err(), NirError::Order);
        assert_eq!(
            Nir::parse("185057800608498").unwrap_err(),
            NirError::KeyFormat
        );
        assert!(!NirError::Sex.is_key_error());
        assert!(Nir::parse("185057800608492").unwrap_err().is_key_error());
        // Born abroad (99) and the Île-de-France departments 91–96 are valid structures.
        assert!(Nir::with_key("1850599123045").is_ok());
        assert!(Nir::with_key("2850593123045").is_ok());
        // Unknown month of birth (20–42, 50+) is accepted and carries no month.
        assert_eq!(Nir::with_key("1853078006084").unwrap().birth_month(), None);
    }

    #[test]
    fn point_19_mismatch_with_sex_and_birth_date() {
        let nir = Nir::with_key("2850578006084").unwrap();
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        assert!(nir.mismatches(Some(Sex::Woman), d("1985-05-17")).is_empty());
        assert_eq!(
            nir.mismatches(Some(Sex::Man), d("1985-05-17")),
            [NirMismatch::Sex]
        );
        assert_eq!(
            nir.mismatches(None, d("1986-06-17")),
            [NirMismatch::BirthYear, NirMismatch::BirthMonth]
        );
        // A provisional number (7/8): odd = man, even = woman.
        let provisional = Nir::with_key("8850578006084").unwrap();
        assert!(provisional.mismatches(Some(Sex::Woman), None).is_empty());
        // Unknown month: only the year is compared.
        let unknown = Nir::with_key("1855078006084").unwrap();
        assert!(
            unknown
                .mismatches(Some(Sex::Man), d("1985-11-02"))
                .is_empty()
        );
    }

    proptest! {
        #[test]
        fn any_valid_body_gets_a_key_that_checks(
            sex in prop::sample::select(vec!['1', '2', '3', '4', '7', '8']),
            year in 0u8..=99, month in prop::sample::select(vec![1u8, 6, 12, 20, 42, 50, 99]),
            dept in prop::sample::select(vec!["01", "2A", "2B", "75", "99", "95"]),
            commune in 1u16..=999, order in 1u16..=999,
        ) {
            let body = format!("{sex}{year:02}{month:02}{dept}{commune:03}{order:03}");
            let nir = Nir::with_key(&body).unwrap();
            prop_assert_eq!(Nir::parse(nir.as_str()).unwrap(), nir.clone());
            // Any other key is a key error, never a structure error.
            let key: u8 = nir.as_str()[13..].parse().unwrap();
            let other = if key == 97 { 1 } else { key + 1 };
            let e = Nir::parse(&format!("{body}{other:02}")).unwrap_err();
            prop_assert!(e.is_key_error());
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,20}") {
            let _ = Nir::parse(&s);
        }
    }
}
