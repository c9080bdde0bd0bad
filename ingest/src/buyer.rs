//! Buyer-side imports (spec §9, point 30): CSV files entered by France compétences, with the
//! same reading rules as operator feeds. Every row is checked first; any invalid row rejects
//! the whole import, listing every error. Re-importing the same rows changes nothing; a row
//! with the same key and other values is an amendment, kept in history.

use crate::csv::{CsvReader, Record};
use crate::decode::{Sniffed, decode, sniff};
use crate::values;
use cep_domain::ids::{DossierNumber, PurchaseOrderRef};
use cep_domain::reference::RefTable;
use cep_domain::{Lot, WorkUnit};
use cep_store::models::buyer::{
    NewBuyerImport, NewDeliverableControl, NewMysteryContact, NewOperator, NewPurchaseOrder,
    NewReferencePopulation, NewSurveyAnswer, Recorded,
};
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
    Surveys,
    MysteryContacts,
    DeliverableControls,
    Populations,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operators" => Some(ImportKind::Operators),
            "purchase-orders" => Some(ImportKind::PurchaseOrders),
            "surveys" => Some(ImportKind::Surveys),
            "mystery-contacts" => Some(ImportKind::MysteryContacts),
            "deliverable-controls" => Some(ImportKind::DeliverableControls),
            "populations" => Some(ImportKind::Populations),
            _ => None,
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportKind::Operators => "operators",
            ImportKind::PurchaseOrders => "purchase-orders",
            ImportKind::Surveys => "surveys",
            ImportKind::MysteryContacts => "mystery-contacts",
            ImportKind::DeliverableControls => "deliverable-controls",
            ImportKind::Populations => "populations",
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
            ImportKind::Surveys => &["numero_dossier", "uo", "date_reponse", "qualite", "utilite"],
            ImportKind::MysteryContacts => &["lot", "date", "numero", "conforme"],
            ImportKind::DeliverableControls => &["numero_dossier", "date_controle", "conforme"],
            ImportKind::Populations => &[
                "lot",
                "annee",
                "dimension",
                "code",
                "population_active",
                "population_active_occupee",
                "population_cible_cep",
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    pub rows: usize,
    pub new: usize,
    pub amended: usize,
    pub unchanged: usize,
    /// What was accepted but deserves a look (English, for the administrator): purchase
    /// orders of one lot and work unit whose periods overlap.
    pub warnings: Vec<String>,
}

enum Row {
    Operator(NewOperator),
    Order(NewPurchaseOrder),
    Survey(NewSurveyAnswer),
    Mystery(NewMysteryContact),
    Control(NewDeliverableControl),
    Population(NewReferencePopulation),
}

/// An order's period and reference, for the overlap check.
type Period = (chrono::NaiveDate, chrono::NaiveDate, String);

/// Imports a buyer-side CSV file.
pub fn import(store: &Store, kind: ImportKind, path: &Path) -> Result<ImportOutcome, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    import_bytes(store, kind, &file, &bytes)
}

/// [`import`] on content already in memory (`file`: its name, for the messages), as the
/// API's administrators send it.
pub fn import_bytes(
    store: &Store,
    kind: ImportKind,
    file: &str,
    bytes: &[u8],
) -> Result<ImportOutcome, ImportError> {
    let file = file.to_owned();
    let io = |source| ImportError::Io {
        path: file.clone(),
        source,
    };
    let invalid = |errors: Vec<String>| ImportError::Invalid {
        file: file.clone(),
        errors,
    };
    let encoding = match sniff(bytes).map_err(io)? {
        Sniffed::Unreadable(r) => return Err(invalid(vec![r.to_owned()])),
        Sniffed::Readable { encoding, .. } => encoding,
    };
    let mut reader = CsvReader::new(bytes);
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
        let yes_no = |name: &str| get(name).as_deref().and_then(values::boolean);
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
            ImportKind::Surveys => {
                let numero = get("numero_dossier").filter(|n| n.parse::<DossierNumber>().is_ok());
                let uo = get("uo").and_then(|u| WorkUnit::from_column_code(&u).ok());
                let day = date("date_reponse", &mut err);
                match (numero, uo, day, yes_no("qualite"), yes_no("utilite")) {
                    (Some(n), Some(u), Some(d), Some(q), Some(ut)) => {
                        if let Some(l) = keys.insert(n.clone(), line) {
                            err(format!("numero_dossier {n} already on line {l}"));
                        }
                        rows.push(Row::Survey(NewSurveyAnswer {
                            numero_dossier: n,
                            uo: u.column_code().to_owned(),
                            date_reponse: d,
                            qualite: q,
                            utilite: ut,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    _ => err("numero_dossier (OOAAMMUUXXXXXX), uo (00, 01, 2.1, 2.2), date_reponse, qualite and utilite (O/N) are required".into()),
                }
            }
            ImportKind::MysteryContacts => {
                let lot = get("lot").and_then(|l| Lot::parse(&l).ok());
                let day = date("date", &mut err);
                let numero = get("numero")
                    .as_deref()
                    .and_then(values::count)
                    .and_then(|n| i32::try_from(n).ok())
                    .filter(|n| *n >= 1);
                match (lot, day, numero, yes_no("conforme")) {
                    (Some(l), Some(d), Some(n), Some(c)) => {
                        let key = format!("{l}/{d}/{n}");
                        if let Some(prev) = keys.insert(key.clone(), line) {
                            err(format!("key {key} already on line {prev}"));
                        }
                        rows.push(Row::Mystery(NewMysteryContact {
                            lot: l.to_string(),
                            date_contact: d,
                            numero: n,
                            conforme: c,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    _ => err(
                        "lot (01–19), date, numero (1, 2, …) and conforme (O/N) are required"
                            .into(),
                    ),
                }
            }
            ImportKind::DeliverableControls => {
                let numero = get("numero_dossier").filter(|n| n.parse::<DossierNumber>().is_ok());
                let day = date("date_controle", &mut err);
                match (numero, day, yes_no("conforme")) {
                    (Some(n), Some(d), Some(c)) => {
                        if let Some(l) = keys.insert(n.clone(), line) {
                            err(format!("numero_dossier {n} already on line {l}"));
                        }
                        rows.push(Row::Control(NewDeliverableControl {
                            numero_dossier: n,
                            date_controle: d,
                            conforme: c,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    _ => err("numero_dossier (OOAAMMUUXXXXXX), date_controle and conforme (O/N) are required".into()),
                }
            }
            ImportKind::Populations => {
                let lot = get("lot")
                    .and_then(|l| Lot::parse(&l).ok())
                    .filter(|l| l.is_regional());
                let annee = get("annee")
                    .as_deref()
                    .and_then(values::count)
                    .and_then(|y| i32::try_from(y).ok())
                    .filter(|y| (2000..=2100).contains(y));
                let dimension = get("dimension");
                let code = get("code").unwrap_or_default();
                let table = match dimension.as_deref() {
                    Some("total") => Some(None),
                    Some("categorie_sociale") => Some(Some(RefTable::CategorieSociale)),
                    Some("statut") => Some(Some(RefTable::Statut)),
                    _ => None,
                };
                let number = |name: &str, err: &mut dyn FnMut(String)| -> Option<i64> {
                    let v = get(name)?;
                    let n = values::count(&v);
                    if n.is_none() {
                        err(format!("{name}: {v:?} is not a whole number"));
                    }
                    n
                };
                let active = number("population_active", &mut err);
                let occupied = number("population_active_occupee", &mut err);
                let target = number("population_cible_cep", &mut err);
                match (lot, annee, dimension, table) {
                    (Some(l), Some(y), Some(dim), Some(t)) => {
                        match t {
                            None if !code.is_empty() => err("code must be empty for dimension total".into()),
                            None if active.is_none() || occupied.is_none() => err("population_active and population_active_occupee are required for dimension total".into()),
                            Some(t) if !t.contains(&code) => err(format!("code {code:?} is not a code of {}", t.name())),
                            _ => {}
                        }
                        if target.is_none() {
                            err("population_cible_cep is required".into());
                        }
                        let key = format!("{l}/{y}/{dim}/{code}");
                        if let Some(prev) = keys.insert(key.clone(), line) {
                            err(format!("key {key} already on line {prev}"));
                        }
                        rows.push(Row::Population(NewReferencePopulation {
                            lot: l.to_string(),
                            annee: y,
                            dimension: dim,
                            code,
                            population_active: active,
                            population_active_occupee: occupied,
                            population_cible_cep: target,
                            import_id: None,
                            recorded_at: at,
                        }));
                    }
                    _ => err("lot (regional, 01–18), annee, dimension (total, categorie_sociale or statut) are required".into()),
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
    // Orders of one lot and work unit may overlap in time: a new order is notified before the
    // previous one is exhausted, and the current order of a month is the latest notified
    // (indicators-v1 "Current order"). The overlaps are accepted and listed as warnings (the
    // file's rows amend the registry's orders of the same reference).
    let mut warnings = Vec::new();
    if kind == ImportKind::PurchaseOrders {
        let mut periods: HashMap<String, (String, String, chrono::NaiveDate, chrono::NaiveDate)> =
            cep_store::models::buyer::PurchaseOrder::all_current(&mut *store.conn()?)?
                .into_iter()
                .map(|o| (o.reference, (o.lot, o.uo, o.date_debut, o.date_fin)))
                .collect();
        for r in &rows {
            if let Row::Order(o) = r {
                periods.insert(
                    o.reference.clone(),
                    (o.lot.clone(), o.uo.clone(), o.date_debut, o.date_fin),
                );
            }
        }
        let mut by_unit: HashMap<(String, String), Vec<Period>> = HashMap::new();
        for (reference, (lot, uo, debut, fin)) in periods {
            by_unit
                .entry((lot, uo))
                .or_default()
                .push((debut, fin, reference));
        }
        let mut overlaps: Vec<String> = Vec::new();
        for ((lot, uo), mut v) in by_unit {
            v.sort();
            for w in v.windows(2) {
                if w[1].0 <= w[0].1 {
                    overlaps.push(format!(
                        "lot {lot} UO {uo}: orders {} ({} to {}) and {} ({} to {}) overlap; each month's current order is the latest notified",
                        w[0].2, w[0].0, w[0].1, w[1].2, w[1].0, w[1].1
                    ));
                }
            }
        }
        overlaps.sort();
        warnings = overlaps;
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let sha = crate::dossier::hex(&Sha256::digest(bytes));
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
                Row::Survey(mut o) => {
                    o.import_id = Some(import_id);
                    o.record(conn)?
                }
                Row::Mystery(mut o) => {
                    o.import_id = Some(import_id);
                    o.record(conn)?
                }
                Row::Control(mut o) => {
                    o.import_id = Some(import_id);
                    o.record(conn)?
                }
                Row::Population(mut o) => {
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
    Ok(ImportOutcome {
        warnings,
        ..outcome
    })
}
