//! Encoding of a received file (point 2): a UTF-16/32 byte-order mark or a NUL byte makes it
//! unreadable (`FILE_FORMAT`); otherwise UTF-8 when the whole file is valid UTF-8 (a BOM at
//! byte 0 is stripped), else Windows-1252 with the warning `FILE_ENCODING`. The check streams
//! over the file once, in fixed-size chunks.

use std::io::Read;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

/// The outcome of looking at a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    Readable {
        encoding: Encoding,
        bom: bool,
    },
    /// Not a text file of this format; the French reason says why.
    Unreadable(&'static str),
}

pub fn sniff(input: impl Read) -> std::io::Result<Sniffed> {
    sniff_counting_lines(input).map(|(s, _)| s)
}

/// [`sniff`], also counting physical lines (line ends, plus a last line without one) for the
/// size limits of point 7.
pub fn sniff_counting_lines(mut input: impl Read) -> std::io::Result<(Sniffed, u64)> {
    let mut buf = vec![0u8; 1 << 16];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    let mut bom = false;
    let mut utf8 = true;
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        last = chunk[n - 1];
        if first {
            first = false;
            if chunk.starts_with(&[0xFF, 0xFE]) || chunk.starts_with(&[0xFE, 0xFF]) {
                return Ok((
                    Sniffed::Unreadable(
                        "encodage UTF-16 ou UTF-32 (marque d'ordre des octets) ; attendu : UTF-8",
                    ),
                    0,
                ));
            }
            if chunk.starts_with(&[0, 0, 0xFE, 0xFF]) {
                return Ok((Sniffed::Unreadable("encodage UTF-32 ; attendu : UTF-8"), 0));
            }
            bom = chunk.starts_with(&[0xEF, 0xBB, 0xBF]);
        }
        if chunk.contains(&0) {
            return Ok((
                Sniffed::Unreadable(
                    "contenu binaire (octet nul) : ce n'est pas un fichier CSV texte",
                ),
                0,
            ));
        }
        if utf8 {
            carry.extend_from_slice(chunk);
            match std::str::from_utf8(&carry) {
                Ok(_) => carry.clear(),
                Err(e) if e.error_len().is_none() => {
                    // A character cut by the chunk boundary: keep its first bytes.
                    let keep = carry.split_off(e.valid_up_to());
                    carry = keep;
                }
                Err(_) => {
                    utf8 = false;
                    carry.clear();
                }
            }
        }
    }
    if !carry.is_empty() {
        utf8 = false;
    }
    let sniffed = Sniffed::Readable {
        encoding: if utf8 {
            Encoding::Utf8
        } else {
            Encoding::Windows1252
        },
        bom: bom && utf8,
    };
    Ok((sniffed, lines + u64::from(last != b'\n')))
}

/// Windows-1252 bytes 0x80–0x9F (the undefined five map to the C1 control of the same value,
/// as WHATWG does); every other byte is the Unicode code point of the same value.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Decodes one field. UTF-8 input was validated by [`sniff`]; a field is still checked, and
/// replaced lossily if the file changed in between.
pub fn decode<'a>(bytes: &'a [u8], encoding: Encoding) -> std::borrow::Cow<'a, str> {
    match encoding {
        // Valid input (nearly always) is checked by the faster strict validator first.
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        },
        Encoding::Windows1252 => {
            if bytes.is_ascii() {
                // ASCII is the same in both encodings.
                String::from_utf8_lossy(bytes)
            } else {
                std::borrow::Cow::Owned(
                    bytes
                        .iter()
                        .map(|&b| match b {
                            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                            _ => char::from(b),
                        })
                        .collect(),
                )
            }
        }
    }
}

/// [`decode`] of bytes already owned: UTF-8 input is taken over without a copy.
pub fn decode_owned(bytes: Vec<u8>, encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 => String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Encoding::Windows1252 => decode(&bytes, encoding).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_or_without_bom_point_2() {
        assert_eq!(
            sniff("é;à\n".as_bytes()).unwrap(),
            Sniffed::Readable {
                encoding: Encoding::Utf8,
                bom: false
            }
        );
        assert_eq!(
            sniff(&b"\xEF\xBB\xBFa;b\n"[..]).unwrap(),
            Sniffed::Readable {
                encoding: Encoding::Utf8,
                bom: true
            }
        );
    }

    #[test]
    fn invalid_utf8_falls_back_to_windows_1252_point_2() {
        let bytes = b"Val\xe9rie;\x9cuvre\n";
        assert_eq!(
            sniff(&bytes[..]).unwrap(),
            Sniffed::Readable {
                encoding: Encoding::Windows1252,
                bom: false
            }
        );
        assert_eq!(decode(b"Val\xe9rie", Encoding::Windows1252), "Valérie");
        assert_eq!(decode(b"\x9cuvre", Encoding::Windows1252), "œuvre");
    }

    #[test]
    fn utf16_and_nul_bytes_are_unreadable_point_2() {
        assert!(matches!(
            sniff(&b"\xFF\xFEa\x00"[..]).unwrap(),
            Sniffed::Unreadable(_)
        ));
        assert!(matches!(
            sniff(&b"a;b\x00c"[..]).unwrap(),
            Sniffed::Unreadable(_)
        ));
    }

    #[test]
    fn a_character_cut_by_a_chunk_boundary_is_still_utf8() {
        let mut text = "a".repeat((1 << 16) - 1);
        text.push('é');
        text.push_str(";x\n");
        assert_eq!(
            sniff(text.as_bytes()).unwrap(),
            Sniffed::Readable {
                encoding: Encoding::Utf8,
                bom: false
            }
        );
    }
}
