//! A streaming CSV reader for the exchange format (spec §3, points 2–3): RFC 4180 with `;`,
//! doubled quotes and newlines inside quotes, LF or CRLF, blank lines skipped, a missing final
//! newline accepted. It works on bytes (UTF-8 and Windows-1252 agree on every byte it looks
//! at), keeps one record in memory at a time, and reports a malformed record as an error of
//! that record only, so the next one is read normally.

use std::io::BufRead;

/// What is wrong with a record; the whole line is quarantined (`LINE_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// A `"` inside a field that did not start with one.
    BareQuote,
    /// Something other than `;` or a line end right after a closing quote.
    AfterClosingQuote,
    /// The file ends inside a quoted field.
    Unterminated,
    /// The record is longer than the reader's limit; it was skipped without being kept.
    TooLong { limit: usize },
}

impl RecordError {
    /// French explanation for the processing report.
    pub fn detail_fr(self) -> String {
        match self {
            RecordError::BareQuote => {
                "guillemet isolé dans un champ non entouré de guillemets (doubler le guillemet et entourer le champ de guillemets)".into()
            }
            RecordError::AfterClosingQuote => {
                "caractère inattendu après un guillemet fermant (attendu : « ; » ou fin de ligne)"
                    .into()
            }
            RecordError::Unterminated => {
                "guillemet ouvrant sans guillemet fermant : la ligne est coupée".into()
            }
            RecordError::TooLong { limit } => {
                format!("ligne de plus de {limit} octets, non lue")
            }
        }
    }
}

/// One record: its fields as byte ranges in an internal buffer.
#[derive(Debug, Default)]
pub struct Record {
    /// Physical line where the record starts (1-based).
    pub line: u64,
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.field(i))
    }
    /// The fields as text, validated once for the whole record: `None` unless the record is
    /// valid UTF-8 and every field boundary falls between characters (then decode field by
    /// field).
    pub fn utf8_fields(&self) -> Option<impl Iterator<Item = &str>> {
        let text = std::str::from_utf8(&self.buf).ok()?;
        if !self.ends.iter().all(|&e| text.is_char_boundary(e)) {
            return None;
        }
        Some((0..self.len()).map(move |i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &text[start..self.ends[i]]
        }))
    }

    /// The length of [`Record::raw`], in bytes.
    pub fn raw_len(&self) -> usize {
        self.buf.len() + self.ends.len().saturating_sub(1)
    }

    /// The raw bytes of the record's fields joined by `;` (kept with a quarantined line).
    pub fn raw(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buf.len() + self.ends.len());
        for (i, f) in self.fields().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(f);
        }
        out
    }
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: either the first of a doubled quote or the closing one.
    QuoteInQuoted,
    /// `"` then `\r`: only `\n` may follow.
    ClosedCr,
}

enum Outcome {
    Eof,
    Blank,
    Record,
    Bad(RecordError),
}

/// Reads records one by one from a buffered byte source.
#[derive(Debug)]
pub struct CsvReader<R> {
    inner: R,
    /// Physical lines fully consumed so far.
    lines: u64,
    max_record: usize,
    done: bool,
    /// After a malformed record: ignore everything up to the end of the physical line.
    skip_to_eol: bool,
}

/// Default limit on one record: far beyond what the format's field limits allow (point 7).
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// Appends bytes to the record, up to its limit (beyond: the record is too long, its bytes
/// are no longer kept).
fn push_all(rec: &mut Record, bytes: &[u8], max: usize, error: &mut Option<RecordError>) {
    let room = max.saturating_sub(rec.buf.len());
    if bytes.len() <= room {
        rec.buf.extend_from_slice(bytes);
    } else {
        rec.buf.extend_from_slice(&bytes[..room]);
        error.get_or_insert(RecordError::TooLong { limit: max });
    }
}

fn finish(rec: &mut Record, error: Option<RecordError>) -> Outcome {
    rec.ends.push(rec.buf.len());
    match error {
        Some(e) => Outcome::Bad(e),
        None => Outcome::Record,
    }
}

impl<R: BufRead> CsvReader<R> {
    pub fn new(inner: R) -> Self {
        CsvReader {
            inner,
            lines: 0,
            max_record: MAX_RECORD_BYTES,
            done: false,
            skip_to_eol: false,
        }
    }

    pub fn with_max_record(mut self, bytes: usize) -> Self {
        self.max_record = bytes;
        self
    }

    /// Reads the next non-blank record into `rec`: `None` at the end of input, `Some(Ok(()))`
    /// with `rec` filled, or `Some(Err(_))` for a malformed record (skipped; `rec.line` set).
    pub fn read(&mut self, rec: &mut Record) -> std::io::Result<Option<Result<(), RecordError>>> {
        loop {
            rec.clear();
            if self.done {
                return Ok(None);
            }
            rec.line = self.lines + 1;
            match self.read_one(rec)? {
                Outcome::Eof => {
                    self.done = true;
                    return Ok(None);
                }
                Outcome::Blank => continue,
                Outcome::Record => return Ok(Some(Ok(()))),
                Outcome::Bad(e) => return Ok(Some(Err(e))),
            }
        }
    }

    fn read_one(&mut self, rec: &mut Record) -> std::io::Result<Outcome> {
        let mut state = State::FieldStart;
        let mut error: Option<RecordError> = None;
        let mut any_byte = false;
        let mut quoted_any = false;
        let max = self.max_record;
        loop {
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                self.done = true;
                if !any_byte {
                    return Ok(Outcome::Eof);
                }
                if self.skip_to_eol {
                    self.skip_to_eol = false;
                } else if state == State::Quoted {
                    error.get_or_insert(RecordError::Unterminated);
                } else if state == State::Unquoted && rec.buf.last() == Some(&b'\r') {
                    rec.buf.pop();
                }
                if error.is_none() && rec.ends.is_empty() && rec.buf.is_empty() && !quoted_any {
                    return Ok(Outcome::Eof);
                }
                return Ok(finish(rec, error));
            }
            let mut i = 0;
            let mut end = false;
            while i < chunk.len() {
                let b = chunk[i];
                i += 1;
                any_byte = true;
                if self.skip_to_eol {
                    if b == b'\n' {
                        self.lines += 1;
                        self.skip_to_eol = false;
                        end = true;
                        break;
                    }
                    continue;
                }
                match state {
                    State::FieldStart | State::Unquoted => match b {
                        b';' => {
                            rec.ends.push(rec.buf.len());
                            state = State::FieldStart;
                        }
                        b'\n' => {
                            self.lines += 1;
                            if state == State::Unquoted && rec.buf.last() == Some(&b'\r') {
                                rec.buf.pop();
                            }
                            end = true;
                            break;
                        }
                        b'"' if state == State::FieldStart => {
                            quoted_any = true;
                            state = State::Quoted;
                        }
                        b'"' => {
                            error.get_or_insert(RecordError::BareQuote);
                            self.skip_to_eol = true;
                        }
                        _ => {
                            // The whole run of ordinary bytes at once.
                            let start = i - 1;
                            let run = chunk[start..]
                                .iter()
                                .position(|&c| c == b';' || c == b'\n' || c == b'"')
                                .unwrap_or(chunk.len() - start);
                            push_all(rec, &chunk[start..start + run], max, &mut error);
                            i = start + run;
                            state = State::Unquoted;
                        }
                    },
                    State::Quoted => {
                        if b == b'"' {
                            state = State::QuoteInQuoted;
                        } else {
                            let start = i - 1;
                            let run = chunk[start..]
                                .iter()
                                .position(|&c| c == b'"')
                                .unwrap_or(chunk.len() - start);
                            let text = &chunk[start..start + run];
                            self.lines += text.iter().filter(|&&c| c == b'\n').count() as u64;
                            push_all(rec, text, max, &mut error);
                            i = start + run;
                        }
                    }
                    State::QuoteInQuoted => match b {
                        b'"' => {
                            push_all(rec, b"\"", max, &mut error);
                            state = State::Quoted;
                        }
                        b';' => {
                            rec.ends.push(rec.buf.len());
                            state = State::FieldStart;
                        }
                        b'\n' => {
                            self.lines += 1;
                            end = true;
                            break;
                        }
                        b'\r' => state = State::ClosedCr,
                        _ => {
                            error.get_or_insert(RecordError::AfterClosingQuote);
                            self.skip_to_eol = true;
                        }
                    },
                    State::ClosedCr => {
                        if b == b'\n' {
                            self.lines += 1;
                            end = true;
                            break;
                        }
                        error.get_or_insert(RecordError::AfterClosingQuote);
                        self.skip_to_eol = true;
                    }
                }
            }
            self.inner.consume(i);
            if end {
                // A line with nothing on it (or only `\r`) is blank and skipped (point 3).
                if error.is_none() && rec.ends.is_empty() && rec.buf.is_empty() && !quoted_any {
                    return Ok(Outcome::Blank);
                }
                return Ok(finish(rec, error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<(u64, Result<Vec<String>, RecordError>)> {
        let mut r = CsvReader::new(input).with_max_record(64);
        let mut rec = Record::default();
        let mut out = vec![];
        while let Some(res) = r.read(&mut rec).unwrap() {
            out.push((
                rec.line,
                res.map(|()| {
                    rec.fields()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect()
                }),
            ));
        }
        out
    }

    fn ok(line: u64, fields: &[&str]) -> (u64, Result<Vec<String>, RecordError>) {
        (line, Ok(fields.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn rfc4180_with_semicolons_crlf_and_quotes_point_3() {
        let got =
            read_all(b"a;b\r\n\"x;y\";\"say \"\"hi\"\"\"\r\n\r\n\"multi\nline\";z\nlast;\"\"");
        assert_eq!(
            got,
            vec![
                ok(1, &["a", "b"]),
                ok(2, &["x;y", "say \"hi\""]),
                ok(4, &["multi\nline", "z"]),
                ok(6, &["last", ""]),
            ]
        );
    }

    #[test]
    fn a_bare_quote_spoils_its_line_only_point_3() {
        let got = read_all(b"a;b\nSITE\"01;c\nd;e\n");
        assert_eq!(
            got,
            vec![
                ok(1, &["a", "b"]),
                (2, Err(RecordError::BareQuote)),
                ok(3, &["d", "e"])
            ]
        );
    }

    #[test]
    fn text_after_a_closing_quote_and_an_unterminated_quote_are_line_format() {
        let got = read_all(b"\"a\"b;c\nx;y\n\"open;z\n");
        assert_eq!(
            got,
            vec![
                (1, Err(RecordError::AfterClosingQuote)),
                ok(2, &["x", "y"]),
                (3, Err(RecordError::Unterminated)),
            ]
        );
    }

    #[test]
    fn an_overlong_record_is_skipped_and_reading_goes_on() {
        let mut input = b"a;b\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 500));
        input.extend(b";y\nc;d");
        let got = read_all(&input);
        assert_eq!(
            got,
            vec![
                ok(1, &["a", "b"]),
                (2, Err(RecordError::TooLong { limit: 64 })),
                ok(3, &["c", "d"])
            ]
        );
    }

    #[test]
    fn empty_input_and_lone_newlines_have_no_record() {
        assert!(read_all(b"").is_empty());
        assert!(read_all(b"\n\r\n\n").is_empty());
    }

    #[test]
    fn a_record_is_validated_once_as_utf8_unless_a_field_splits_a_character() {
        let fields = |input: &[u8]| {
            let mut r = CsvReader::new(input);
            let mut rec = Record::default();
            r.read(&mut rec).unwrap().unwrap().unwrap();
            rec.utf8_fields()
                .map(|f| f.map(str::to_owned).collect::<Vec<_>>())
        };
        assert_eq!(
            fields("Müller;\"a;b\";;é\n".as_bytes()),
            Some(vec!["Müller".into(), "a;b".into(), "".into(), "é".into()])
        );
        // "é" is C3 A9: cut by the separator, each half is invalid although the record's bytes
        // (without the separator) read as valid UTF-8.
        assert_eq!(fields(b"x\xC3;\xA9y\n"), None);
        assert_eq!(fields(b"caf\xE9\n"), None);
    }
}
