//! Turning a received file or body into records of one kind: CSV with its header (point 1),
//! or a JSON body (§5, point 28). Both give, per record, one raw value per known column.

use crate::anomaly::{Anomaly, AnomalyCode, Severity};
use crate::csv::{CsvReader, Record};
use crate::decode::{Encoding, decode, decode_owned};
use std::borrow::Cow;
use std::io::BufRead;

/// One record, or a malformed one.
#[derive(Debug)]
pub enum Item {
    Record {
        /// CSV: physical line where it starts; JSON: index from 0.
        line: u64,
        /// One raw value per known column of the kind (`None`: absent).
        values: Vec<Option<String>>,
        /// The record as received (kept with a quarantined line).
        raw: String,
    },
    Malformed {
        line: u64,
        detail: String,
        raw: String,
        /// The dossier number, when the fields read before the fault include it.
        dossier: Option<String>,
    },
}

/// The columns of a kind: names, and which must be in the header.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub names: &'a [&'static str],
    pub required: &'a [&'static str],
}

/// Position of each file column among the kind's columns (`None`: unknown, ignored).
#[derive(Debug)]
pub struct HeaderMap {
    slots: Vec<Option<usize>>,
    known: usize,
    /// Position of `numero_dossier` in the file, if present.
    numero: Option<usize>,
}

/// Reads the header; file-level anomalies (blocking ones reject the file).
pub fn header(
    rec: &Record,
    encoding: Encoding,
    bom: bool,
    cols: Columns<'_>,
) -> (Option<HeaderMap>, Vec<Anomaly>) {
    let mut names: Vec<String> = rec
        .fields()
        .map(|f| decode(f, encoding).into_owned())
        .collect();
    if bom && let Some(first) = names.first_mut() {
        *first = first.trim_start_matches('\u{FEFF}').to_owned();
    }
    // A trailing empty column present in the header (and all lines) is ignored (point 3).
    let mut anomalies = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut dups = vec![];
    for n in &names {
        if !n.is_empty() && !seen.insert(n.as_str()) {
            dups.push(n.clone());
        }
    }
    if !dups.is_empty() {
        anomalies.push(Anomaly::file(
            AnomalyCode::FileColumns,
            Severity::Blocking,
            format!("colonnes en double dans l'en-tête : {}", dups.join(", ")),
        ));
        return (None, anomalies);
    }
    let missing: Vec<&str> = cols
        .required
        .iter()
        .copied()
        .filter(|r| !names.iter().any(|n| n == r))
        .collect();
    if !missing.is_empty() {
        anomalies.push(Anomaly::file(
            AnomalyCode::FileColumns,
            Severity::Blocking,
            format!(
                "colonnes obligatoires absentes de l'en-tête : {} (séparateur attendu : « ; », noms en minuscules)",
                missing.join(", ")
            ),
        ));
        return (None, anomalies);
    }
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !n.is_empty() && !cols.names.contains(&n.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let mut a = Anomaly::file(
            AnomalyCode::FileColumns,
            Severity::Warning,
            format!("colonnes inconnues ignorées : {}", unknown.join(", ")),
        );
        a.line = Some(1);
        anomalies.push(a);
    }
    let slots = names
        .iter()
        .map(|n| cols.names.iter().position(|c| c == n))
        .collect();
    (
        Some(HeaderMap {
            slots,
            known: cols.names.len(),
            numero: names.iter().position(|n| n == "numero_dossier"),
        }),
        anomalies,
    )
}

/// Records of a CSV body after its header.
pub fn csv_items<R: BufRead>(
    reader: &mut CsvReader<R>,
    map: &HeaderMap,
    encoding: Encoding,
) -> impl Iterator<Item = std::io::Result<Item>> {
    let mut rec = Record::default();
    std::iter::from_fn(move || match reader.read(&mut rec) {
        Err(e) => Some(Err(e)),
        Ok(None) => None,
        Ok(Some(Err(e))) => {
            // Fields read before the fault are complete except the last one.
            let dossier = map.numero.filter(|&i| i + 1 < rec.len()).and_then(|i| {
                crate::values::trimmed(&decode(rec.field(i), encoding)).map(str::to_owned)
            });
            Some(Ok(Item::Malformed {
                line: rec.line,
                detail: e.detail_fr(),
                raw: decode_owned(rec.raw(), encoding),
                dossier,
            }))
        }
        Ok(Some(Ok(()))) => {
            if rec.len() != map.slots.len() {
                let raw = decode_owned(rec.raw(), encoding);
                let dossier = map.numero.filter(|&i| i < rec.len()).and_then(|i| {
                    crate::values::trimmed(&decode(rec.field(i), encoding)).map(str::to_owned)
                });
                return Some(Ok(Item::Malformed {
                    line: rec.line,
                    detail: format!(
                        "{} champs au lieu des {} colonnes de l'en-tête",
                        rec.len(),
                        map.slots.len()
                    ),
                    raw,
                    dossier,
                }));
            }
            // One decoding per field serves both the values and the raw line kept with a
            // quarantined line (the fields joined by `;`, as `Record::raw`). UTF-8 (nearly
            // always) is validated once for the whole record.
            let mut values = vec![None; map.known];
            let mut raw = String::with_capacity(rec.raw_len());
            let utf8 = match encoding {
                Encoding::Utf8 => rec.utf8_fields(),
                Encoding::Windows1252 => None,
            };
            match utf8 {
                Some(fields) => fill(map, &mut values, &mut raw, fields.map(Cow::Borrowed)),
                None => fill(
                    map,
                    &mut values,
                    &mut raw,
                    rec.fields().map(|f| decode(f, encoding)),
                ),
            }
            Some(Ok(Item::Record {
                line: rec.line,
                values,
                raw,
            }))
        }
    })
}

/// The values (by column slot) and the raw line of a record's decoded fields.
fn fill<'a>(
    map: &HeaderMap,
    values: &mut [Option<String>],
    raw: &mut String,
    fields: impl Iterator<Item = Cow<'a, str>>,
) {
    for (i, text) in fields.enumerate() {
        if i > 0 {
            raw.push(';');
        }
        raw.push_str(&text);
        // An empty field is absent (point 4): no allocation for it.
        if let Some(slot) = map.slots[i]
            && !text.is_empty()
        {
            values[slot] = Some(text.into_owned());
        }
    }
}

/// A JSON body per §5 and point 28: `{"lot": "08", "records": [{...}]}`. Returns the body's
/// lot and its records, or the reason the whole body is rejected (`FILE_FORMAT`).
pub fn json_items(
    body: &[u8],
    cols: Columns<'_>,
) -> Result<(String, Vec<Item>, Vec<Anomaly>), String> {
    let text =
        std::str::from_utf8(body).map_err(|_| "le corps JSON n'est pas en UTF-8".to_owned())?;
    // Duplicate keys are refused (point 28): detect them with a map that keeps every key.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("JSON invalide : {e}"))?;
    if has_duplicate_keys(text) {
        return Err("clé en double dans un objet JSON".into());
    }
    let obj = value
        .as_object()
        .ok_or("le corps doit être un objet {\"lot\": …, \"records\": […]}")?;
    let lot = obj
        .get("lot")
        .and_then(|l| l.as_str())
        .ok_or("champ « lot » (chaîne) absent")?
        .to_owned();
    let records = obj
        .get("records")
        .and_then(|r| r.as_array())
        .ok_or("champ « records » (tableau) absent")?;
    if records.len() > 10_000 {
        return Err(format!(
            "{} enregistrements ; 10 000 au plus par corps",
            records.len()
        ));
    }
    let mut items = Vec::with_capacity(records.len());
    let mut unknown = std::collections::BTreeSet::new();
    for (i, r) in records.iter().enumerate() {
        let line = i as u64;
        let Some(o) = r.as_object() else {
            return Err(format!("l'enregistrement {i} n'est pas un objet"));
        };
        let mut values = vec![None; cols.names.len()];
        for (k, v) in o {
            let Some(slot) = cols.names.iter().position(|c| c == k) else {
                unknown.insert(k.clone());
                continue;
            };
            values[slot] = json_value(v);
        }
        items.push(Item::Record {
            line,
            values,
            raw: r.to_string(),
        });
    }
    let mut anomalies = vec![];
    if !unknown.is_empty() {
        anomalies.push(Anomaly::file(
            AnomalyCode::FileColumns,
            Severity::Warning,
            format!(
                "champs inconnus ignorés : {}",
                unknown.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok((lot, items, anomalies))
}

/// A JSON value as the text a CSV cell would carry: `""`, `null`, `[]` are missing; arrays
/// are `|`-lists; booleans `O`/`N`; numbers their decimal text (point 28, point 6).
fn json_value(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as V;
    match v {
        V::Null => None,
        V::Bool(b) => Some(if *b { "O" } else { "N" }.into()),
        V::Number(n) => Some(n.to_string()),
        V::String(s) if s.is_empty() => None,
        V::String(s) => Some(s.clone()),
        V::Array(a) if a.is_empty() => None,
        V::Array(a) => Some(
            a.iter()
                .map(|x| json_value(x).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("|"),
        ),
        V::Object(_) => Some(v.to_string()),
    }
}

/// Whether any JSON object in `text` repeats a key.
fn has_duplicate_keys(text: &str) -> bool {
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Check;
    impl<'de> Visitor<'de> for Check {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<(), A::Error> {
            while s.next_element_seed(Seed)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<(), A::Error> {
            let mut keys = std::collections::HashSet::new();
            while let Some(k) = m.next_key::<String>()? {
                if !keys.insert(k) {
                    return Err(de::Error::custom("duplicate key"));
                }
                m.next_value_seed(Seed)?;
            }
            Ok(())
        }
    }
    struct Seed;
    impl<'de> de::DeserializeSeed<'de> for Seed {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(Check)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(Seed, &mut de).is_err()
}
