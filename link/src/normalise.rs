//! Normalisation of identity fields before comparison.
//!
//! Every rule here is a way operators write the same person differently: a file read in the
//! wrong encoding (`Ã©` for `é`), accents dropped or kept, case, hyphens, apostrophes and
//! spaces, name particles (`DE LA`, `LE`), a usage name given instead of (or beside) the birth
//! name, several first names.

use cep_domain::{Nir, Sex};
use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Windows-1252's characters for bytes 0x80–0x9F (where it differs from Latin-1).
const CP1252_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('‘', 0x91),
    ('’', 0x92),
    ('“', 0x93),
    ('”', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

/// Repairs UTF-8 text that was read as Windows-1252 or Latin-1 (`JÃ©rÃ´me` → `Jérôme`).
///
/// The repair is applied only when it is unambiguous: the text contains one of the lead
/// characters such a reading produces (`Ã`, `Â`, `Å`, `Ä` followed by a continuation
/// character), every character maps back to one byte, and those bytes are valid UTF-8.
/// Otherwise the text is returned unchanged (a real `Ä` stays an `Ä`).
pub fn repair_mojibake(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let suspicious = chars
        .windows(2)
        .any(|w| matches!(w[0], 'Ã' | 'Â' | 'Å' | 'Ä') && byte_of(w[1]).is_some_and(|b| b >= 0x80));
    if !suspicious {
        return s.to_owned();
    }
    let bytes: Option<Vec<u8>> = chars.iter().map(|&c| byte_of(c)).collect();
    match bytes.map(String::from_utf8) {
        Some(Ok(repaired)) => repaired,
        _ => s.to_owned(),
    }
}

fn byte_of(c: char) -> Option<u8> {
    let code = c as u32;
    if code < 0x80 || (0xA0..=0xFF).contains(&code) || (0x80..0xA0).contains(&code) {
        return Some(code as u8);
    }
    CP1252_HIGH.iter().find(|(ch, _)| *ch == c).map(|(_, b)| *b)
}

/// Folds a name to upper-case ASCII words: mojibake repaired, NFKD with the accents removed,
/// ligatures spelled out, every character that is not a letter or digit (hyphen, apostrophe,
/// dot, comma…) made a space, spaces collapsed.
pub fn fold(s: &str) -> String {
    let repaired = repair_mojibake(s);
    let mut out = String::with_capacity(repaired.len());
    let mut pending_space = false;
    for c in repaired.nfkd().filter(|c| !is_combining_mark(*c)) {
        let expansion: &str = match c {
            'œ' | 'Œ' => "OE",
            'æ' | 'Æ' => "AE",
            'ß' => "SS",
            'ø' | 'Ø' => "O",
            'đ' | 'Đ' => "D",
            'ł' | 'Ł' => "L",
            _ => "",
        };
        if !expansion.is_empty() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push_str(expansion);
        } else if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_uppercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Name particles dropped from the start of a surname's core (`DE LA FONTAINE` → `FONTAINE`).
const PARTICLES: [&str; 14] = [
    "DE", "DU", "DES", "LA", "LE", "LES", "D", "L", "VAN", "VON", "DER", "DI", "DA", "DEL",
];

/// A surname's comparison form: folded, particles removed from the front, words joined
/// without spaces (`de La Fontaine-Dubois` → `FONTAINEDUBOIS`). A name made only of particles
/// keeps them.
pub fn surname_core(s: &str) -> String {
    let folded = fold(s);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let first_kept = words
        .iter()
        .position(|w| !PARTICLES.contains(w))
        .unwrap_or(0);
    words[first_kept..].concat()
}

/// A first-name field's comparison forms: all the first names joined (`JEAN PIERRE`,
/// `Jean-Pierre` → `JEANPIERRE`), and the first of them (`JEAN`).
pub fn first_names(s: &str) -> (String, String) {
    let folded = fold(s);
    let first = folded.split(' ').next().unwrap_or("").to_owned();
    (folded.replace(' ', ""), first)
}

/// An e-mail address in comparison form: trimmed, lower case.
pub fn email(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A birth date as the eight digits `YYYYMMDD`.
pub fn date_digits(d: NaiveDate) -> u32 {
    d.year().max(0) as u32 * 10_000 + d.month() * 100 + d.day()
}

/// The NIR to use for matching: present only when it is valid (key correct) and consistent
/// with the declared sex and birth date. Returns the valid NIR and, separately, the 13-digit
/// body of any well-formed NIR (even with a wrong key), which is evidence but never proof.
pub fn nir(
    raw: Option<&str>,
    sex: Option<Sex>,
    birth: Option<NaiveDate>,
) -> (Option<String>, Option<String>) {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return (None, None);
    };
    match Nir::parse(raw) {
        Ok(nir) => {
            let body = nir.as_str()[..13].to_owned();
            if nir.mismatches(sex, birth).is_empty() {
                (Some(nir.as_str().to_owned()), Some(body))
            } else {
                (None, Some(body))
            }
        }
        Err(e) if e.is_key_error() => {
            let digits = cep_domain::nir::normalise(raw);
            (None, (digits.len() == 15).then(|| digits[..13].to_owned()))
        }
        Err(_) => (None, None),
    }
}

/// A French phonetic code for blocking and a comparison level: the usual spellings of one
/// sound made one (`PH`→`F`, `QU`/`C`/`CK`→`K`, `EAU`/`AU`→`O`, `AI`/`EI`→`E`, `GN`→`N`, `Y`→`I`,
/// `W`→`V`, `Z`→`S`, silent `H` and final `S`/`T`/`D`/`X`/`E` dropped), then the first letter
/// and the consonant skeleton, repeated letters collapsed, at most 8 characters.
/// `DUPOND`, `DUPONT` and `DUPOND` share one code, as do `PHILIPPE` and `FILIPE`.
pub fn phonetic(core: &str) -> String {
    let s = core.as_bytes();
    let mut t: Vec<u8> = Vec::with_capacity(s.len());
    let mut i = 0;
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    while i < s.len() {
        let c = s[i];
        let next = at(i + 1);
        match c {
            b'P' if next == b'H' => {
                t.push(b'F');
                i += 2;
                continue;
            }
            b'Q' if next == b'U' => {
                t.push(b'K');
                i += 2;
                continue;
            }
            b'C' if next == b'K' => {
                t.push(b'K');
                i += 2;
                continue;
            }
            b'C' if next == b'H' => {
                t.push(b'S');
                i += 2;
                continue;
            }
            b'C' if matches!(next, b'E' | b'I' | b'Y') => t.push(b'S'),
            b'C' | b'Q' => t.push(b'K'),
            b'G' if next == b'N' => {
                t.push(b'N');
                i += 2;
                continue;
            }
            b'G' if next == b'U' && matches!(at(i + 2), b'E' | b'I') => {
                t.push(b'G');
                i += 2;
                continue;
            }
            b'E' if next == b'A' && at(i + 2) == b'U' => {
                t.push(b'O');
                i += 3;
                continue;
            }
            b'A' if next == b'U' => {
                t.push(b'O');
                i += 2;
                continue;
            }
            b'A' | b'E' if next == b'I' => {
                t.push(b'E');
                i += 2;
                continue;
            }
            b'H' => {}
            b'Y' => t.push(b'I'),
            b'W' => t.push(b'V'),
            b'Z' => t.push(b'S'),
            b'X' => {
                t.push(b'K');
                t.push(b'S');
            }
            b'T' if next == b'H' => {
                t.push(b'T');
                i += 2;
                continue;
            }
            _ => t.push(c),
        }
        i += 1;
    }
    while t.len() > 1 && matches!(t.last(), Some(b'S' | b'T' | b'D' | b'X' | b'E')) {
        t.pop();
    }
    let mut out = String::with_capacity(8);
    let mut last = 0u8;
    for (k, &c) in t.iter().enumerate() {
        let vowel = matches!(c, b'A' | b'E' | b'I' | b'O' | b'U');
        if (k > 0 && vowel) || c == last {
            if !vowel {
                last = c;
            }
            continue;
        }
        out.push(c as char);
        last = c;
        if out.len() == 8 {
            break;
        }
    }
    out
}

/// Postal code in comparison form (digits only, five of them) and its department
/// (three digits overseas, `20` for Corsica's `2A`/`2B` codes which are all `20xxx`).
pub fn postcode(raw: &str) -> Option<(String, String)> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 5 {
        return None;
    }
    let dept = if digits.starts_with("97") || digits.starts_with("98") {
        digits[..3].to_owned()
    } else {
        digits[..2].to_owned()
    };
    Some((digits, dept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mojibake_is_repaired_when_unambiguous() {
        assert_eq!(repair_mojibake("JÃ©rÃ´me"), "Jérôme");
        assert_eq!(repair_mojibake("FranÃ§ois"), "François");
        // Windows-1252 reading: `œ` is C5 93, read as `Å` + `“`.
        assert_eq!(repair_mojibake("CÅ“ur"), "Cœur");
        // A genuine `Ä` followed by an ordinary letter stays as it is.
        assert_eq!(repair_mojibake("ÄNGELA"), "ÄNGELA");
        assert_eq!(repair_mojibake("Müller"), "Müller");
    }

    #[test]
    fn fold_removes_accents_case_and_punctuation() {
        assert_eq!(fold("Hélène-Marie"), "HELENE MARIE");
        assert_eq!(fold("  d'Artagnan  "), "D ARTAGNAN");
        assert_eq!(fold("JÃ©rÃ´me"), "JEROME");
        assert_eq!(fold("Lætitia Œuvray"), "LAETITIA OEUVRAY");
        assert_eq!(
            fold("ＭＡＲＴＩＮ"),
            "MARTIN",
            "NFKD folds full-width letters"
        );
    }

    #[test]
    fn surname_core_drops_leading_particles_and_spaces() {
        assert_eq!(surname_core("de La Fontaine"), "FONTAINE");
        assert_eq!(surname_core("LE GOFF"), "GOFF");
        assert_eq!(surname_core("Le-Goff"), "GOFF");
        assert_eq!(surname_core("D'ARTAGNAN"), "ARTAGNAN");
        assert_eq!(surname_core("Martin Dubois"), "MARTINDUBOIS");
        assert_eq!(surname_core("Martin-Dubois"), "MARTINDUBOIS");
        assert_eq!(
            surname_core("LE"),
            "LE",
            "a name made only of particles keeps them"
        );
    }

    #[test]
    fn several_first_names_keep_the_first_apart() {
        assert_eq!(
            first_names("Jean-Pierre"),
            ("JEANPIERRE".into(), "JEAN".into())
        );
        assert_eq!(
            first_names("jean pierre"),
            ("JEANPIERRE".into(), "JEAN".into())
        );
        assert_eq!(first_names("Marie Claire Anne").1, "MARIE");
    }

    #[test]
    fn email_trimmed_and_lower_case() {
        assert_eq!(email(" Jean@X.FR "), "jean@x.fr");
    }

    #[test]
    fn phonetic_codes_merge_french_spellings() {
        assert_eq!(phonetic("DUPONT"), phonetic("DUPOND"));
        assert_eq!(phonetic("PHILIPPE"), phonetic("FILIPE"));
        assert_eq!(phonetic("RENAUD"), phonetic("RENO"));
        assert_eq!(
            phonetic("MARTIN"),
            phonetic("MARTAN"),
            "a vowel typo keeps the code"
        );
        assert_ne!(phonetic("MARTIN"), phonetic("BERNARD"));
    }

    #[test]
    fn nir_used_only_when_valid_and_consistent() {
        let birth = NaiveDate::from_ymd_opt(1985, 3, 12);
        let body = "1850375056123";
        let valid = Nir::with_key(body).unwrap();
        let (ok, b) = nir(Some(valid.as_str()), Some(Sex::Man), birth);
        assert_eq!(ok.as_deref(), Some(valid.as_str()));
        assert_eq!(b.as_deref(), Some(body));
        // Consistency: a woman's record with a man's NIR is not used as proof.
        let (ok, b) = nir(Some(valid.as_str()), Some(Sex::Woman), birth);
        assert_eq!(ok, None);
        assert_eq!(b.as_deref(), Some(body));
        // Wrong key: never proof, the body is still evidence.
        let key: u8 = valid.as_str()[13..].parse().unwrap();
        let wrong = format!("{body}{:02}", if key >= 97 { 1 } else { key + 1 });
        let (ok, b) = nir(Some(&wrong), Some(Sex::Man), birth);
        assert_eq!(ok, None);
        assert_eq!(b.as_deref(), Some(body));
        assert_eq!(nir(Some("garbage"), None, None), (None, None));
    }

    #[test]
    fn postcode_department() {
        assert_eq!(postcode("75011"), Some(("75011".into(), "75".into())));
        assert_eq!(postcode("97310"), Some(("97310".into(), "973".into())));
        assert_eq!(postcode("7501"), None);
    }
}
