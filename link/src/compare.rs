//! Comparison of two records field by field, each field giving a level (0 = agree fully,
//! higher = less agreement), or "missing" when either side lacks the value. Levels are the
//! Fellegi–Sunter comparison vector; the model turns them into weights.

use crate::record::{Features, Name};

/// The compared fields, in the order of a comparison vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Birth or usage name, best pair: exact, one typing error apart or Jaro–Winkler ≥ 0.92,
    /// Jaro–Winkler ≥ 0.88 or same phonetic code, different.
    Surname,
    /// First names: all equal, first of them equal or one typing error apart or Jaro–Winkler
    /// ≥ 0.92, Jaro–Winkler ≥ 0.88 or same phonetic code, different.
    FirstName,
    /// Birth date: exact, day and month swapped, one digit different, different.
    Birth,
    /// Sex: same, different.
    Sex,
    /// E-mail: same address, one typing error apart (`claire.martin12@` and `claire.martin127@`:
    /// a mistyped address, issue 20), different. (A "same letters before the @" level was tried
    /// and dropped: addresses are made of the names, so it repeats the name evidence and made
    /// namesakes look like one person.)
    Email,
    /// Postal code (or commune when a code is missing): same, same department, different.
    Place,
    /// 13-digit NIR body (key not checked): same, different.
    NirBody,
    /// Recorded by different operators, by the same one. An operator gives one identifier per
    /// beneficiary, so two identifiers at one lot are evidence of two persons; how much is
    /// learnt like every other weight (from NIR-proven pairs), so operators that do create
    /// duplicates make it weaker.
    Lot,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Surname,
        Field::FirstName,
        Field::Birth,
        Field::Sex,
        Field::Email,
        Field::Place,
        Field::NirBody,
        Field::Lot,
    ];

    /// Number of agreement levels (without "missing").
    pub const fn levels(self) -> usize {
        match self {
            Field::Surname | Field::FirstName | Field::Birth => 4,
            Field::Place | Field::Email => 3,
            Field::Sex | Field::NirBody | Field::Lot => 2,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Field::Surname => "surname",
            Field::FirstName => "first_name",
            Field::Birth => "birth_date",
            Field::Sex => "sex",
            Field::Email => "email",
            Field::Place => "place",
            Field::NirBody => "nir_body",
            Field::Lot => "same_lot",
        }
    }
}

/// Level meaning the value is missing on either side (no evidence either way).
pub const MISSING: u8 = u8::MAX;

/// Number of distinct comparison vectors (each field's levels plus "missing").
pub const PATTERNS: usize = {
    let mut n = 1;
    let mut i = 0;
    while i < Field::ALL.len() {
        n *= Field::ALL[i].levels() + 1;
        i += 1;
    }
    n
};

/// A comparison vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison(pub [u8; 8]);

impl Comparison {
    /// The vector's index in `0..PATTERNS` (missing is each field's last slot).
    pub fn pattern(self) -> usize {
        let mut p = 0;
        for (i, f) in Field::ALL.iter().enumerate() {
            let slot = if self.0[i] == MISSING {
                f.levels()
            } else {
                self.0[i] as usize
            };
            p = p * (f.levels() + 1) + slot;
        }
        p
    }

    pub fn from_pattern(mut p: usize) -> Comparison {
        let mut levels = [0u8; 8];
        for (i, f) in Field::ALL.iter().enumerate().rev() {
            let slot = p % (f.levels() + 1);
            p /= f.levels() + 1;
            levels[i] = if slot == f.levels() {
                MISSING
            } else {
                slot as u8
            };
        }
        Comparison(levels)
    }

    pub fn level(self, f: Field) -> u8 {
        self.0[f as usize]
    }
}

/// Jaro–Winkler similarity of two ASCII strings (prefix scale 0.1, up to 4 characters).
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let window = (b.len() / 2).saturating_sub(1);
    let mut b_used = [false; 64];
    let mut a_match = [0u8; 64];
    if b.len() > 64 {
        return if a == b { 1.0 } else { 0.0 };
    }
    let mut matches = 0usize;
    for (i, &ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_used[j] && b[j] == ca {
                b_used[j] = true;
                a_match[matches] = ca;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (j, &cb) in b.iter().enumerate() {
        if b_used[j] {
            if a_match[k] != cb {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro =
        (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// Whether two strings are one typing error apart: one character inserted, deleted or
/// replaced, or two neighbours swapped (Damerau–Levenshtein distance ≤ 1).
pub fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if b.len() - a.len() > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if prefix == a.len() {
        return true; // equal, or b has one more character at the end
    }
    if a.len() == b.len() {
        let (ra, rb) = (&a[prefix + 1..], &b[prefix + 1..]);
        ra == rb
            || (prefix + 1 < a.len()
                && a[prefix] == b[prefix + 1]
                && a[prefix + 1] == b[prefix]
                && a[prefix + 2..] == b[prefix + 2..])
    } else {
        a[prefix..] == b[prefix + 1..]
    }
}

fn name_level(a: &Name, b: &Name) -> u8 {
    if a.core == b.core {
        return 0;
    }
    if one_edit_apart(a.core.as_bytes(), b.core.as_bytes()) {
        return 1;
    }
    let jw = jaro_winkler(a.core.as_bytes(), b.core.as_bytes());
    if jw >= 0.92 {
        1
    } else if jw >= 0.88 || a.phonetic == b.phonetic {
        2
    } else {
        3
    }
}

fn surname_level(a: &[Name], b: &[Name]) -> u8 {
    let mut best = MISSING;
    for x in a {
        for y in b {
            best = best.min(name_level(x, y));
            if best == 0 {
                return 0;
            }
        }
    }
    best
}

fn first_level(a: &Features, b: &Features) -> u8 {
    match (&a.first, &b.first) {
        (Some(x), Some(y)) => {
            let level = name_level(x, y);
            // Several first names on one side and one on the other ("RÉMI, PIERRE" and
            // "RMI"): the first of them, equal or one typing error apart, is level 1.
            let (ta, tb) = (a.first_token.as_bytes(), b.first_token.as_bytes());
            let first_close = !ta.is_empty() && (ta == tb || one_edit_apart(ta, tb));
            if level > 1 && first_close { 1 } else { level }
        }
        _ => MISSING,
    }
}

/// Surname and first-name levels with the names crossed (one operator put the first name in
/// `nom`): the record's surnames against the other's first names and the other way round.
fn crossed_levels(a: &Features, b: &Features) -> (u8, u8) {
    let cross = |x: &Features, y: &Features| match &y.first {
        Some(first) => x
            .surnames
            .iter()
            .map(|s| name_level(s, first))
            .min()
            .unwrap_or(MISSING),
        None => MISSING,
    };
    (cross(a, b), cross(b, a))
}

fn birth_level(a: u32, b: u32) -> u8 {
    if a == 0 || b == 0 {
        return MISSING;
    }
    if a == b {
        return 0;
    }
    let (ya, ma, da) = (a / 10_000, a / 100 % 100, a % 100);
    let (yb, mb, db) = (b / 10_000, b / 100 % 100, b % 100);
    if ya == yb && ma == db && da == mb {
        return 1;
    }
    let (mut x, mut y, mut differing) = (a, b, 0);
    for _ in 0..8 {
        if x % 10 != y % 10 {
            differing += 1;
        }
        x /= 10;
        y /= 10;
    }
    if differing == 1 { 2 } else { 3 }
}

fn email_level(a: &Features, b: &Features) -> u8 {
    if a.email.is_empty() || b.email.is_empty() {
        MISSING
    } else if a.email == b.email {
        0
    } else if one_edit_apart(a.email.as_bytes(), b.email.as_bytes()) {
        1
    } else {
        2
    }
}

fn place_level(a: &Features, b: &Features) -> u8 {
    if !a.postcode.is_empty() && !b.postcode.is_empty() {
        if a.postcode == b.postcode {
            0
        } else if a.department == b.department {
            1
        } else {
            2
        }
    } else if !a.commune.is_empty() && !b.commune.is_empty() {
        if a.commune == b.commune { 0 } else { 2 }
    } else {
        MISSING
    }
}

/// Compares two records.
pub fn compare(a: &Features, b: &Features) -> Comparison {
    let mut surname = surname_level(&a.surnames, &b.surnames);
    let mut first = first_level(a, b);
    if surname.saturating_add(first) >= 3 && surname != MISSING && first != MISSING {
        let (s, f) = crossed_levels(a, b);
        if s != MISSING && f != MISSING && s + f < surname + first {
            (surname, first) = (s, f);
        }
    }
    let sex = if a.sex == 0 || b.sex == 0 {
        MISSING
    } else {
        u8::from(a.sex != b.sex)
    };
    let nir = match (&a.nir_body, &b.nir_body) {
        (Some(x), Some(y)) => u8::from(x != y),
        _ => MISSING,
    };
    Comparison([
        surname,
        first,
        birth_level(a.birth, b.birth),
        sex,
        email_level(a, b),
        place_level(a, b),
        nir,
        if a.lot == 0 || b.lot == 0 {
            MISSING
        } else {
            u8::from(a.lot == b.lot)
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::IdentityFields;
    use cep_domain::Sex;
    use chrono::NaiveDate;

    fn person(nom: &str, prenom: &str, birth: (i32, u32, u32)) -> IdentityFields {
        IdentityFields {
            nom: Some(nom.into()),
            prenom: Some(prenom.into()),
            sexe: Some(Sex::Woman),
            date_naissance: NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2),
            email: Some("claire.martin12@exemple.fr".into()),
            code_postal: Some("75011".into()),
            commune: Some("Paris".into()),
            ..Default::default()
        }
    }

    fn cmp(a: &IdentityFields, b: &IdentityFields) -> Comparison {
        compare(&Features::of(a), &Features::of(b))
    }

    #[test]
    fn jaro_winkler_known_values() {
        let close = |a: &str, b: &str, v: f64| {
            let jw = jaro_winkler(a.as_bytes(), b.as_bytes());
            assert!((jw - v).abs() < 0.001, "{a} {b}: {jw}");
        };
        close("MARTHA", "MARHTA", 0.961);
        close("DWAYNE", "DUANE", 0.84);
        close("DIXON", "DICKSONX", 0.813);
        close("ABC", "ABC", 1.0);
        close("ABC", "XYZ", 0.0);
    }

    #[test]
    fn one_edit() {
        assert!(one_edit_apart(b"INES", b"IEES"), "replaced");
        assert!(one_edit_apart(b"MARTIN", b"MRATIN"), "swapped neighbours");
        assert!(one_edit_apart(b"MARTIN", b"MRTIN"), "deleted");
        assert!(one_edit_apart(b"MARTIN", b"MARTINE"), "inserted at the end");
        assert!(!one_edit_apart(b"MARTIN", b"MRTINE"));
        assert!(!one_edit_apart(b"LEFEBVRE", b"LEEEBVER"));
        assert!(!one_edit_apart(b"ABC", b"CBA"));
    }

    #[test]
    fn pattern_round_trips() {
        let c = Comparison([0, 3, MISSING, 1, 1, MISSING, 0, 1]);
        assert_eq!(Comparison::from_pattern(c.pattern()), c);
        assert!(c.pattern() < PATTERNS);
    }

    #[test]
    fn surname_levels() {
        let a = person("Martin", "Claire", (1980, 5, 3));
        assert_eq!(
            cmp(&a, &person("MARTIN", "claire", (1980, 5, 3))).level(Field::Surname),
            0
        );
        assert_eq!(
            cmp(&a, &person("Mratin", "Claire", (1980, 5, 3))).level(Field::Surname),
            1
        );
        assert_eq!(
            cmp(&a, &person("Martan", "Claire", (1980, 5, 3))).level(Field::Surname),
            1
        );
        assert_eq!(
            cmp(&a, &person("Bernard", "Claire", (1980, 5, 3))).level(Field::Surname),
            3
        );
        // Birth name against usage name.
        let mut married = person("Dubois", "Claire", (1980, 5, 3));
        married.nom_usage = Some("Martin".into());
        assert_eq!(cmp(&a, &married).level(Field::Surname), 0);
        // Particles, hyphens and spaces.
        assert_eq!(
            cmp(
                &person("de la Fontaine", "Claire", (1980, 5, 3)),
                &person("FONTAINE", "Claire", (1980, 5, 3))
            )
            .level(Field::Surname),
            0
        );
    }

    #[test]
    fn first_name_levels() {
        let a = person("Martin", "Anne-Claire", (1980, 5, 3));
        assert_eq!(
            cmp(&a, &person("Martin", "ANNE CLAIRE", (1980, 5, 3))).level(Field::FirstName),
            0
        );
        assert_eq!(
            cmp(&a, &person("Martin", "Anne", (1980, 5, 3))).level(Field::FirstName),
            1
        );
        assert_eq!(
            cmp(&a, &person("Martin", "Sophie", (1980, 5, 3))).level(Field::FirstName),
            3
        );
        // The first of several first names mistyped on the other side.
        let remi = person("Durand", "Rémi, Pierre", (1965, 4, 5));
        assert_eq!(
            cmp(&remi, &person("Durand", "RMI", (1965, 4, 5))).level(Field::FirstName),
            1
        );
    }

    #[test]
    fn crossed_names_are_recognised() {
        let a = person("Martin", "Claire", (1980, 5, 3));
        let c = cmp(&a, &person("Claire", "Martin", (1980, 5, 3)));
        assert_eq!((c.level(Field::Surname), c.level(Field::FirstName)), (0, 0));
    }

    #[test]
    fn birth_levels() {
        assert_eq!(birth_level(19800503, 19800503), 0);
        assert_eq!(birth_level(19800503, 19800305), 1, "day and month swapped");
        assert_eq!(birth_level(19800503, 19800508), 2, "one digit");
        assert_eq!(birth_level(19800503, 19810612), 3);
        assert_eq!(birth_level(0, 19810612), MISSING);
    }

    #[test]
    fn email_sex_place_and_nir_levels() {
        let a = person("Martin", "Claire", (1980, 5, 3));
        let mut b = a.clone();
        assert_eq!(cmp(&a, &b).0, [0, 0, 0, 0, 0, 0, MISSING, MISSING]);
        b.email = Some("claire.martin.1980@exemple.fr".into());
        b.code_postal = Some("75012".into());
        b.sexe = Some(Sex::Man);
        let c = cmp(&a, &b);
        assert_eq!(
            (
                c.level(Field::Email),
                c.level(Field::Place),
                c.level(Field::Sex)
            ),
            (2, 1, 1)
        );
        // A mistyped address is one edit from the other.
        b.email = Some("claire.martin13@exemple.fr".into());
        assert_eq!(cmp(&a, &b).level(Field::Email), 1);
        b.email = None;
        b.code_postal = Some("69003".into());
        let c = cmp(&a, &b);
        assert_eq!((c.level(Field::Email), c.level(Field::Place)), (MISSING, 2));
        b.code_postal = None;
        b.commune = Some("PARIS".into());
        assert_eq!(
            cmp(&a, &b).level(Field::Place),
            0,
            "commune when the code is missing"
        );
    }
}
