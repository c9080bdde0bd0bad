//! File names (spec §2, point 27): `CEP_L{ll}_{KIND}_{YYYYMMDD}_{nn}.csv`.

use cep_domain::Lot;
use chrono::NaiveDate;

/// The three record kinds of the exchange format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeedKind {
    Dossiers,
    Reclamations,
    Moyens,
}

impl FeedKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            FeedKind::Dossiers => "DOSSIERS",
            FeedKind::Reclamations => "RECLAMATIONS",
            FeedKind::Moyens => "MOYENS",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "DOSSIERS" => Some(FeedKind::Dossiers),
            "RECLAMATIONS" => Some(FeedKind::Reclamations),
            "MOYENS" => Some(FeedKind::Moyens),
            _ => None,
        }
    }
}

/// A parsed feed file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedFileName {
    pub lot: Lot,
    pub kind: FeedKind,
    pub date: NaiveDate,
    pub sequence: u8,
}

/// Parses a file name; the error is the French reason for `FILE_NAME`.
pub fn parse(name: &str, received: NaiveDate) -> Result<FeedFileName, String> {
    let expected = "attendu : CEP_L{lot}_{DOSSIERS|RECLAMATIONS|MOYENS}_{AAAAMMJJ}_{nn}.csv";
    let bad = || format!("« {name} » ne suit pas le modèle ({expected})");
    let stem = name.strip_suffix(".csv").ok_or_else(bad)?;
    let parts: Vec<&str> = stem.split('_').collect();
    let [cep, lot, kind, date, seq] = parts.as_slice() else {
        return Err(bad());
    };
    if *cep != "CEP" {
        return Err(bad());
    }
    let lot = lot
        .strip_prefix('L')
        .and_then(|l| Lot::parse(l).ok())
        .ok_or_else(bad)?;
    let kind = FeedKind::parse(kind).ok_or_else(bad)?;
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let date = NaiveDate::parse_from_str(date, "%Y%m%d")
        .map_err(|_| format!("« {name} » : la date d'extraction {date} n'existe pas"))?;
    if date > received {
        return Err(format!(
            "« {name} » : la date d'extraction {date} est postérieure à la réception ({received})"
        ));
    }
    if seq.len() != 2 || !seq.bytes().all(|b| b.is_ascii_digit()) || *seq == "00" {
        return Err(bad());
    }
    Ok(FeedFileName {
        lot,
        kind,
        date,
        sequence: seq.parse().map_err(|_| bad())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn spec_2_names_parse() {
        let n = parse("CEP_L08_DOSSIERS_20251014_01.csv", day("2025-10-15")).unwrap();
        assert_eq!(n.lot.to_string(), "08");
        assert_eq!(n.kind, FeedKind::Dossiers);
        assert_eq!(n.sequence, 1);
    }

    #[test]
    fn point_27_stray_names_are_file_name() {
        let r = day("2025-10-15");
        for bad in [
            "CEP_L08_DOSSIER_20251014_01.csv",
            "CEP_L08_DOSSIERS_20251014_1.csv",
            "CEP_L08_DOSSIERS_20251014_00.csv",
            "CEP_L20_DOSSIERS_20251014_01.csv",
            "CEP_L08_DOSSIERS_20250230_01.csv",
            "CEP_L08_DOSSIERS_20251016_01.csv",
            "cep_L08_DOSSIERS_20251014_01.csv",
            "CEP_L08_DOSSIERS_20251014_01.CSV",
        ] {
            assert!(parse(bad, r).is_err(), "{bad}");
        }
    }
}
