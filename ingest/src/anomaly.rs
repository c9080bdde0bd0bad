//! Anomalies (spec §7): every code of the exchange format, its severity, and the French
//! message an operator can act on (point 31: one template per code, with the column, the
//! value and what was expected; identity values are never echoed).

use serde::{Deserialize, Serialize};

/// Every anomaly code of the exchange format v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalyCode {
    FileName,
    FileEncoding,
    FileFormat,
    FileColumns,
    LineFormat,
    FieldFormat,
    FieldTooLong,
    MissingValue,
    RefCode,
    DossierFormat,
    DossierOperator,
    DossierMois,
    RegionLot,
    NirKey,
    NirMismatch,
    DateOrder,
    Deadline,
    FutureDate,
    Horodatage,
    FicheConflict,
    FicheStale,
    FicheImmuable,
    Uo22WithoutUo21,
    Ineligible,
    ConcurrentCep,
    LivrableMissing,
    BcUnknown,
    BcMismatch,
    BcDuplicate,
    DecompteMissing,
}

impl AnomalyCode {
    pub const ALL: [AnomalyCode; 30] = {
        use AnomalyCode::*;
        [
            FileName,
            FileEncoding,
            FileFormat,
            FileColumns,
            LineFormat,
            FieldFormat,
            FieldTooLong,
            MissingValue,
            RefCode,
            DossierFormat,
            DossierOperator,
            DossierMois,
            RegionLot,
            NirKey,
            NirMismatch,
            DateOrder,
            Deadline,
            FutureDate,
            Horodatage,
            FicheConflict,
            FicheStale,
            FicheImmuable,
            Uo22WithoutUo21,
            Ineligible,
            ConcurrentCep,
            LivrableMissing,
            BcUnknown,
            BcMismatch,
            BcDuplicate,
            DecompteMissing,
        ]
    };

    pub const fn as_str(self) -> &'static str {
        use AnomalyCode::*;
        match self {
            FileName => "FILE_NAME",
            FileEncoding => "FILE_ENCODING",
            FileFormat => "FILE_FORMAT",
            FileColumns => "FILE_COLUMNS",
            LineFormat => "LINE_FORMAT",
            FieldFormat => "FIELD_FORMAT",
            FieldTooLong => "FIELD_TOO_LONG",
            MissingValue => "MISSING_VALUE",
            RefCode => "REF_CODE",
            DossierFormat => "DOSSIER_FORMAT",
            DossierOperator => "DOSSIER_OPERATOR",
            DossierMois => "DOSSIER_MOIS",
            RegionLot => "REGION_LOT",
            NirKey => "NIR_KEY",
            NirMismatch => "NIR_MISMATCH",
            DateOrder => "DATE_ORDER",
            Deadline => "DEADLINE",
            FutureDate => "FUTURE_DATE",
            Horodatage => "HORODATAGE",
            FicheConflict => "FICHE_CONFLICT",
            FicheStale => "FICHE_STALE",
            FicheImmuable => "FICHE_IMMUABLE",
            Uo22WithoutUo21 => "UO22_WITHOUT_UO21",
            Ineligible => "INELIGIBLE",
            ConcurrentCep => "CONCURRENT_CEP",
            LivrableMissing => "LIVRABLE_MISSING",
            BcUnknown => "BC_UNKNOWN",
            BcMismatch => "BC_MISMATCH",
            BcDuplicate => "BC_DUPLICATE",
            DecompteMissing => "DECOMPTE_MISSING",
        }
    }

    /// What the anomaly is about, in French, as the start of every message of this code.
    pub const fn title_fr(self) -> &'static str {
        use AnomalyCode::*;
        match self {
            FileName => "Nom de fichier non conforme",
            FileEncoding => "Fichier non encodé en UTF-8, lu en Windows-1252",
            FileFormat => "Fichier illisible",
            FileColumns => "En-tête de colonnes non conforme",
            LineFormat => "Ligne mal formée",
            FieldFormat => "Valeur mal formée",
            FieldTooLong => "Valeur trop longue",
            MissingValue => "Valeur obligatoire manquante",
            RefCode => "Code absent de la table de référence",
            DossierFormat => "Numéro de dossier non conforme",
            DossierOperator => "Numéro de dossier d'un autre opérateur",
            DossierMois => "Mois du numéro de dossier différent du mois d'engagement",
            RegionLot => "Lot régional différent du lot du fichier",
            NirKey => "Clé du NIR erronée",
            NirMismatch => "NIR incohérent avec le sexe ou la date de naissance",
            DateOrder => "Dates dans le désordre",
            Deadline => "Clôture après le délai de l'UO",
            FutureDate => "Date postérieure à l'horodatage de la fiche",
            Horodatage => "Horodatage hors des bornes",
            FicheConflict => "Fiche en conflit avec une fiche déjà reçue",
            FicheStale => "Fiche plus ancienne que l'état connu du dossier",
            FicheImmuable => "Modification d'un champ non modifiable du dossier",
            Uo22WithoutUo21 => "UO 2.2 sans UO 2.1 préalable clôturée",
            Ineligible => "Statut non éligible à l'UO",
            ConcurrentCep => "CEP concurrent chez un autre opérateur régional",
            LivrableMissing => "Livrable manquant",
            BcUnknown => "Bon de commande inconnu",
            BcMismatch => "Bon de commande d'un autre lot ou d'une autre UO",
            BcDuplicate => "Référence de consommation déjà utilisée",
            DecompteMissing => "Numéro de décompte manquant",
        }
    }
}

impl std::fmt::Display for AnomalyCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `blocking` quarantines the line (or rejects the file); `warning` keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Blocking,
    Warning,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Blocking => "blocking",
            Severity::Warning => "warning",
        }
    }
}

/// One anomaly found in a file, a line or a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// Physical line where the record starts (header = 1), JSON index, or `None` for the file.
    pub line: Option<u64>,
    pub dossier: Option<String>,
    pub column: Option<String>,
    pub code: AnomalyCode,
    pub severity: Severity,
    pub message: String,
}

impl Anomaly {
    /// An anomaly about the whole file.
    pub fn file(code: AnomalyCode, severity: Severity, detail: impl AsRef<str>) -> Anomaly {
        Anomaly {
            line: None,
            dossier: None,
            column: None,
            code,
            severity,
            message: message(code, None, detail.as_ref()),
        }
    }
}

/// `"{title} (colonne « col ») : {detail}."`
pub fn message(code: AnomalyCode, column: Option<&str>, detail: &str) -> String {
    let mut m = String::from(code.title_fr());
    if let Some(c) = column {
        m.push_str(" (colonne « ");
        m.push_str(c);
        m.push_str(" »)");
    }
    if !detail.is_empty() {
        m.push_str(" : ");
        m.push_str(detail);
    }
    if !m.ends_with('.') {
        m.push('.');
    }
    m
}

/// The anomalies of one line or record, at most one per (code, column) (point 9).
#[derive(Debug, Clone, Default)]
pub struct LineAnomalies {
    pub line: u64,
    pub dossier: Option<String>,
    pub list: Vec<Anomaly>,
}

impl LineAnomalies {
    pub fn new(line: u64) -> Self {
        LineAnomalies {
            line,
            dossier: None,
            list: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        code: AnomalyCode,
        severity: Severity,
        column: Option<&str>,
        detail: &str,
    ) {
        if self
            .list
            .iter()
            .any(|a| a.code == code && a.column.as_deref() == column)
        {
            return;
        }
        self.list.push(Anomaly {
            line: Some(self.line),
            dossier: self.dossier.clone(),
            column: column.map(str::to_owned),
            code,
            severity,
            message: message(code, column, detail),
        });
    }

    pub fn blocking(&mut self, code: AnomalyCode, column: &str, detail: &str) {
        self.push(code, Severity::Blocking, Some(column), detail);
    }

    pub fn warning(&mut self, code: AnomalyCode, column: &str, detail: &str) {
        self.push(code, Severity::Warning, Some(column), detail);
    }

    pub fn has_blocking(&self) -> bool {
        self.list.iter().any(|a| a.severity == Severity::Blocking)
    }

    /// Whether a column already carries an anomaly (layer (d) skips it; layer (e) rules that
    /// read it are skipped, point 9).
    pub fn touches(&self, column: &str) -> bool {
        self.list
            .iter()
            .any(|a| a.column.as_deref() == Some(column))
    }

    /// Sets the dossier number on this line's anomalies once it is known.
    pub fn set_dossier(&mut self, numero: &str) {
        self.dossier = Some(numero.to_owned());
        for a in &mut self.list {
            a.dossier = Some(numero.to_owned());
        }
    }
}
