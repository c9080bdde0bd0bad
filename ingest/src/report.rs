//! Processing reports (spec §1): one per received file or body, sent back to the operator as
//! CSV (`;`, UTF-8 BOM) and JSON in `outbox/L{lot}/`, and stored for the API.

use crate::anomaly::{Anomaly, Severity};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Accepted,
    Rejected,
    Duplicate,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
        }
    }
}

/// A médiateur's request for access to a dossier, reported to the operator (Annex 2 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediatorAccess {
    pub date: String,
    pub dossier: String,
}

/// A mediation case the médiateur opened on one of the lot's beneficiaries (CCTP 3.7: the
/// operator is told), with the complaint reference it was opened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpened {
    pub date: String,
    pub case: String,
    pub complaint_reference: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessingReport {
    pub file: String,
    pub lot: Option<String>,
    pub kind: Option<String>,
    pub sha256: String,
    pub status: Status,
    pub received_at: String,
    pub lines: u64,
    pub accepted: u64,
    /// Accepted lines identical to a fiche already stored (no-ops, point 12).
    pub unchanged: u64,
    pub quarantined: u64,
    pub warnings: u64,
    pub anomalies: Vec<Anomaly>,
    pub mediator_access_requests: Vec<MediatorAccess>,
    /// Mediation cases opened on the lot's beneficiaries since the last report.
    #[serde(default)]
    pub mediation_cases_opened: Vec<CaseOpened>,
}

impl ProcessingReport {
    /// The one-line summary printed by `cep ingest`.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} (lot {}, {} lines, {} accepted, {} quarantined, {} warnings)",
            self.file,
            self.status.as_str(),
            self.lot.as_deref().unwrap_or("?"),
            self.lines,
            self.accepted,
            self.quarantined,
            self.warnings
        )
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serialises")
    }

    /// The CSV form: one row per anomaly, after a summary block.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("\u{FEFF}");
        s.push_str("fichier;lot;sha256;statut;lignes;acceptees;quarantaine;avertissements\n");
        let row = [
            self.file.clone(),
            self.lot.clone().unwrap_or_default(),
            self.sha256.clone(),
            self.status.as_str().to_owned(),
            self.lines.to_string(),
            self.accepted.to_string(),
            self.quarantined.to_string(),
            self.warnings.to_string(),
        ];
        push_row(&mut s, &row);
        s.push('\n');
        s.push_str("ligne;dossier;colonne;code;severite;message\n");
        for a in &self.anomalies {
            push_row(
                &mut s,
                &[
                    a.line.map(|l| l.to_string()).unwrap_or_default(),
                    a.dossier.clone().unwrap_or_default(),
                    a.column.clone().unwrap_or_default(),
                    a.code.as_str().to_owned(),
                    match a.severity {
                        Severity::Blocking => "bloquante".into(),
                        Severity::Warning => "avertissement".into(),
                    },
                    a.message.clone(),
                ],
            );
        }
        if !self.mediator_access_requests.is_empty() {
            s.push('\n');
            s.push_str("date_demande_mediateur;dossier\n");
            for m in &self.mediator_access_requests {
                push_row(&mut s, &[m.date.clone(), m.dossier.clone()]);
            }
        }
        if !self.mediation_cases_opened.is_empty() {
            s.push('\n');
            s.push_str("date_saisine_mediateur;saisine;reference_reclamation\n");
            for c in &self.mediation_cases_opened {
                push_row(
                    &mut s,
                    &[
                        c.date.clone(),
                        c.case.clone(),
                        c.complaint_reference.clone(),
                    ],
                );
            }
        }
        s
    }

    /// The folder and file stem of this report in the outbox: `outbox/L{lot}/` (or
    /// `outbox/inconnu/`) and `{file}.{sha256[..12]}` (`….doublon` for a duplicate).
    fn outbox_place(&self, outbox: &Path) -> (PathBuf, String) {
        let dir = outbox.join(match &self.lot {
            Some(l) => format!("L{l}"),
            None => "inconnu".into(),
        });
        let stem = self.file.trim_end_matches(".csv").trim_end_matches(".json");
        // A duplicate's report must not replace the report of the original reception.
        let stem = match self.status {
            Status::Duplicate => format!("{stem}.{}.doublon", &self.sha256[..12]),
            _ => format!("{stem}.{}", &self.sha256[..12]),
        };
        (dir, stem)
    }

    /// Whether both files of this report are in the outbox.
    pub fn is_in_outbox(&self, outbox: &Path) -> bool {
        let (dir, stem) = self.outbox_place(outbox);
        ["rapport.csv", "rapport.json"]
            .iter()
            .all(|ext| dir.join(format!("{stem}.{ext}")).is_file())
    }

    /// Writes `{stem}.rapport.csv` and `{stem}.rapport.json` into `outbox/L{lot}/` (or
    /// `outbox/inconnu/`), each written to a temporary name then renamed. They reach the disk
    /// with the batch's flush ([`crate::Ingestor::complete`]), not one by one.
    pub fn write_outbox(&self, outbox: &Path) -> std::io::Result<Vec<PathBuf>> {
        let (dir, stem) = self.outbox_place(outbox);
        std::fs::create_dir_all(&dir)?;
        let mut out = vec![];
        for (ext, body) in [
            ("rapport.csv", self.to_csv()),
            ("rapport.json", self.to_json()),
        ] {
            let path = dir.join(format!("{stem}.{ext}"));
            let tmp = dir.join(format!(".{stem}.{ext}.part"));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(body.as_bytes())?;
            drop(f);
            std::fs::rename(&tmp, &path)?;
            out.push(path);
        }
        Ok(out)
    }
}

/// A cell of a CSV the service writes (point 8): quoted when needed, and prefixed with `'`
/// when it starts with `=`, `+`, `-`, `@`, tab or carriage return (CSV injection).
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn push_row(s: &mut String, cells: &[String]) {
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            s.push(';');
        }
        s.push_str(&csv_cell(c));
    }
    s.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_8_csv_injection_is_escaped() {
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("-3"), "'-3");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("dit \"x\""), "\"dit \"\"x\"\"\"");
        assert_eq!(csv_cell("texte"), "texte");
    }
}
