//! Buyer-side imports (spec §9, point 30): CSV files entered by France compétences, with the
//! same reading rules as operator feeds. Every row is checked first; any invalid row rejects
//! the whole import, listing every error. Re-importing the same rows changes nothing; a row
//! with the same key and other values is an amendment, kept in history.

use crate::csv::{CsvReader, Record};
use crate::decode::{Sniffed, decode, sniff};
use crate::values;
use cep_domain::Lot;
use cep_domain::ids::PurchaseOrderRef;
use cep_store::models::buyer::{NewBuyerImport, NewOperator, NewPurchaseOrder, Recorded};
use cep_store::models::now_utc;
use cep_store::{Store, StoreError};
use diesel::Connection;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The kinds of `cep import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Operators,
    PurchaseOrders,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operators" => Some(ImportKind::Operators),
            "purchase-orders" => Some(ImportKind::PurchaseOrders),
            _ => None,
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportKind::Operators => "operators",
            ImportKind::PurchaseOrders => "purchase-orders",
        }
    }
    fn columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Operators => &["lot", "code_operateur", "nom", "date_debut", "date_fin"],
            ImportKind::PurchaseOrders => &[
                "reference",
                "date_notification",
                "quantite",
                "prix_unitaire_ht",
                "taux_tva",
                "date_debut",
                "date_fin",
            ],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{file}: import rejected, nothing recorded:\n{}", .errors.join("\n"))]
    Invalid { file: String, errors: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub rows: usize,
    pub new: usize,
    pub amended: usize,
    pub unchanged: usize,
}

enum Row {
    Operator(NewOperator),
    Order(NewPurchaseOrder),
}

/// Imports a buyer-side CSV file.
pub fn import(store: &Store, kind: ImportKind, path: &Path) -> Result<ImportOutcome, ImportError> {
    let io = |source| ImportError::Io {
        path: path.display().to_string(),
        source,
    };
    let bytes = std::fs::read(path).map_err(io)?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let invalid = |errors: Vec<String>| ImportError::Invalid {
        file: file.clone(),
        errors,
    };
    let encoding = match sniff(&bytes[..]).map_err(io)? {
        Sniffed::Unreadable(r) => return Err(invalid(vec![r.to_owned()])),
        Sniffed::Readable { encoding, .. } => encoding,
    };
    let mut reader = CsvReader::new(&bytes[..]);
    let mut rec = Record::default();
    let header: Vec<String> = match reader.read(&mut rec).map_err(io)? {
        Some(Ok(())) => rec
            .fields()
            .map(|f| {
                decode(f, encoding)
                    .trim_start_matches('\u{FEFF}')
                    .to_owned()
            })
            .collect(),
        _ => return Err(invalid(vec!["empty file or unreadable header".into()])),
    };
    let cols = kind.columns();
    let missing: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(vec![format!(
            "missing columns: {}",
            missing.join(", ")
        )]));
    }
    let at = now_utc();
    let mut rows = vec![];
    let mut errors = vec![];
    let mut keys: HashMap<String, u64> = HashMap::new();
    while let Some(r) = reader.read(&mut rec).map_err(io)? {
        let line = rec.line;
        if let Err(e) = r {
            errors.push(format!("line {line}: {}", e.detail_fr()));
            continue;
        }
        if rec.len() != header.len() {
            errors.push(format!(
                "line {line}: {} fields for {} columns",
                rec.len(),
                header.len()
            ));
            continue;
        }
        let get = |name: &str| -> Option<String> {
            let i = header.iter().position(|h| h == name)?;
            values::trimmed(&decode(rec.field(i), encoding)).map(str::to_owned)
        };
        let mut err = |m: String| errors.push(format!("line {line}: {m}"));
        let date = |name: &str, err: &mut dyn FnMut(String)| -> Option<chrono::NaiveDate> {
            let v = get(name)?;
            let d = values::date(&v);
            if d.is_none() {
                err(format!("{name}: {v:?} is not a date AAAA-MM-JJ"));
            }
            d
        };
        match kind {
            ImportKind::Operators => {
                let lot = get("lot").and_then(|l| Lot::parse(&l).ok());
                let code = get("code_operateur").filter(|c| {
                    c.len() == 2
                        && c.bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                });
                let nom = get("nom");
                let debut = date("date_debut", &mut err);
                let fin = date("date_fin", &mut err);
                match (lot, code, nom, debut) {
                    (Some(lot), Some(code), Some(nom), Some(debut)) => {
                        if fin.is_some_and(|f| f < debut) {
                            err("date_fin is before date_debut".into());
                        }
                        let key = format!("{lot}/{debut}");
                        if let Some(l) = keys.insert(key.clone(), line) {
                            err(format!("key {key} already on line {l}"));
                        }
                        rows.push(Row::Operator(NewOperator {
                            lot: lot.to_string(),
                            code_operateur: code,
                            nom,
                            date_debut: debut,
                            date_fin: fin,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    _ => err("lot (01–19), code_operateur (2 upper-case letters or digits), nom and date_debut are required".into()),
                }
            }
            ImportKind::PurchaseOrders => {
                let reference = get("reference");
                let parsed = reference.as_deref().map(str::parse::<PurchaseOrderRef>);
                let quantite = get("quantite").as_deref().and_then(values::count);
                let prix = get("prix_unitaire_ht")
                    .as_deref()
                    .and_then(values::hundredths);
                let tva = get("taux_tva").as_deref().and_then(|t| {
                    // A rate such as 0.20 or 0,055: ten-thousandths.
                    let t = t.replace(',', ".");
                    let (i, f) = t.split_once('.').unwrap_or((&t, ""));
                    if i.is_empty()
                        || f.len() > 4
                        || !i.bytes().chain(f.bytes()).all(|b| b.is_ascii_digit())
                    {
                        return None;
                    }
                    let bp =
                        i.parse::<i32>().ok()? * 10_000 + format!("{f:0<4}").parse::<i32>().ok()?;
                    (bp <= 10_000).then_some(bp)
                });
                let notif = date("date_notification", &mut err);
                let debut = date("date_debut", &mut err);
                let fin = date("date_fin", &mut err);
                match (&parsed, quantite, prix, tva, notif, debut, fin) {
                    (Some(Ok(r)), Some(q), Some(p), Some(t), Some(n), Some(d), Some(f)) => {
                        if f < d {
                            err("date_fin is before date_debut".into());
                        }
                        let key = reference.clone().unwrap_or_default();
                        if let Some(l) = keys.insert(key.clone(), line) {
                            err(format!("reference {key} already on line {l}"));
                        }
                        rows.push(Row::Order(NewPurchaseOrder {
                            reference: key,
                            lot: r.lot().to_string(),
                            uo: r.work_unit().column_code().to_owned(),
                            date_notification: n,
                            quantite: q,
                            prix_unitaire_ht_cents: p,
                            taux_tva_bp: t,
                            date_debut: d,
                            date_fin: f,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    (Some(Err(e)), ..) => err(format!("reference: {e}")),
                    _ => err("reference (AAAA-Lotww-UOxx-yy), quantite (integer), prix_unitaire_ht (euros, 2 decimals), taux_tva (e.g. 0.20) and the three dates are required".into()),
                }
            }
        }
    }
    // Operator periods of a lot never overlap (point 30).
    let mut periods: HashMap<String, Vec<(chrono::NaiveDate, chrono::NaiveDate, String)>> =
        HashMap::new();
    for r in &rows {
        if let Row::Operator(o) = r {
            periods.entry(o.lot.clone()).or_default().push((
                o.date_debut,
                o.date_fin.unwrap_or(chrono::NaiveDate::MAX),
                o.code_operateur.clone(),
            ));
        }
    }
    for (lot, mut v) in periods {
        v.sort();
        for w in v.windows(2) {
            if w[1].0 <= w[0].1 {
                errors.push(format!(
                    "lot {lot}: operator periods overlap ({} and {})",
                    w[0].2, w[1].2
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let sha = crate::dossier::hex(&Sha256::digest(&bytes));
    let mut conn = store.conn()?;
    let outcome = conn.transaction::<_, StoreError, _>(|conn| {
        let mut out = ImportOutcome {
            rows: rows.len(),
            ..Default::default()
        };
        let import_id = NewBuyerImport {
            kind: kind.as_str().to_owned(),
            file_name: file.clone(),
            sha256: sha.clone(),
            imported_at: at,
            rows_total: rows.len() as i32,
            rows_new: 0,
            rows_amended: 0,
        }
        .insert(conn)?;
        for r in rows {
            let rec = match r {
                Row::Operator(mut o) => {
                    o.import_id = Some(import_id);
                    o.record(conn)?
                }
                Row::Order(mut o) => {
                    o.import_id = Some(import_id);
                    o.record(conn)?
                }
            };
            match rec {
                Recorded::New => out.new += 1,
                Recorded::Amended => out.amended += 1,
                Recorded::Unchanged => out.unchanged += 1,
            }
        }
        Ok(out)
    })?;
    Ok(outcome)
}
