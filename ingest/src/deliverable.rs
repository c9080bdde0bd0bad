//! Deliverables (livrables, feed spec point 34; tender Annex 3 §2): the signed file of a UO1
//! (état des lieux partagé) or UO2.1 (projet professionnel), deposited as
//! `inbox/L{ll}/livrables/{numero_dossier}_{sha256}.pdf` (or `.odt`) or pushed to the API.
//!
//! A file is refused (nothing kept) when its name does not follow that pattern, its content is
//! not the PDF or OpenDocument text its extension says, or its SHA-256 is not the one in its
//! name. Otherwise it is archived under `archive/L{ll}/livrables/` and recorded, and its report
//! says whether a fiche of the lot declares it (`livrable_sha256` of the dossier's current
//! fiche): a file with no matching fiche is kept and reported (point 34), and matches later
//! when the fiche arrives.

use crate::pipeline::{Channel, InboxEntry, IngestError};
use cep_domain::{DossierNumber, Lot};
use cep_store::DbConnection;
use cep_store::models::deliverables::{self, Deliverable, NewDeliverable};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The two formats point 34 allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Odt,
}

impl Format {
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Odt => "odt",
        }
    }

    pub const fn media_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Odt => "application/vnd.oasis.opendocument.text",
        }
    }

    /// Whether `content` is a file of this format: `%PDF-` at the start, or an OpenDocument
    /// text package (a ZIP whose first entry is `mimetype`, holding the text media type).
    pub fn recognises(self, content: &[u8]) -> bool {
        match self {
            Format::Pdf => content.starts_with(b"%PDF-"),
            Format::Odt => {
                content.starts_with(b"PK\x03\x04")
                    && content.get(30..38) == Some(b"mimetype".as_slice())
                    && content
                        .get(38..)
                        .is_some_and(|s| s.starts_with(b"application/vnd.oasis.opendocument.text"))
            }
        }
    }
}

/// A deliverable's file name, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverableName {
    pub numero_dossier: DossierNumber,
    /// Lower case.
    pub sha256: String,
    pub format: Format,
}

/// Reads `{numero_dossier}_{sha256}.pdf|.odt`; the error is the operator's message (French).
pub fn parse_name(name: &str) -> Result<DeliverableName, String> {
    let expected = "attendu : {numero_dossier}_{sha256}.pdf ou .odt";
    let (stem, format) = if let Some(s) = name.strip_suffix(".pdf") {
        (s, Format::Pdf)
    } else if let Some(s) = name.strip_suffix(".odt") {
        (s, Format::Odt)
    } else {
        return Err(format!(
            "extension non reconnue (seuls .pdf et .odt sont admis) ; {expected}"
        ));
    };
    let Some((numero, sha)) = stem.split_once('_') else {
        return Err(format!("nom de fichier invalide ; {expected}"));
    };
    let numero_dossier: DossierNumber = numero
        .parse()
        .map_err(|_| format!("« {numero} » n'est pas un numéro de dossier ; {expected}"))?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "l'empreinte du nom doit compter 64 caractères hexadécimaux ; {expected}"
        ));
    }
    Ok(DeliverableName {
        numero_dossier,
        sha256: sha.to_ascii_lowercase(),
        format,
    })
}

/// What became of a deposited deliverable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliverableStatus {
    /// Archived, and the dossier's current fiche declares this hash.
    Matched,
    /// Archived and kept, but no current fiche of the lot declares it (yet).
    Unmatched,
    /// The lot already deposited this content: nothing new kept.
    Duplicate,
    /// Refused: nothing kept.
    Rejected,
}

/// The report of one deposited deliverable (written to `outbox/L{ll}/livrables/`).
#[derive(Debug, Clone, Serialize)]
pub struct DeliverableReport {
    pub file_name: String,
    pub lot: String,
    pub status: DeliverableStatus,
    pub numero_dossier: Option<String>,
    pub sha256: Option<String>,
    pub size_bytes: u64,
    pub received_at: DateTime<Utc>,
    pub channel: &'static str,
    /// For the operator, in French.
    pub message: String,
}

impl DeliverableReport {
    /// One line: lot, file, status, and the operator's message.
    pub fn summary(&self) -> String {
        let status = match self.status {
            DeliverableStatus::Matched => "matched",
            DeliverableStatus::Unmatched => "kept, unmatched",
            DeliverableStatus::Duplicate => "duplicate",
            DeliverableStatus::Rejected => "rejected",
        };
        format!(
            "L{} deliverable {}: {status} — {}",
            self.lot, self.file_name, self.message
        )
    }
}

/// One deposited deliverable, as received.
#[derive(Debug, Clone, Copy)]
pub struct Deposit<'a> {
    pub lot: Lot,
    pub file_name: &'a str,
    pub content: &'a [u8],
    pub channel: Channel,
    pub received_at: DateTime<Utc>,
}

/// Receives one deliverable: checks, archive (under `archive_root`), record, report (also
/// written under `outbox_root`).
pub fn receive(
    conn: &mut DbConnection,
    archive_root: &Path,
    outbox_root: &Path,
    deposit: Deposit<'_>,
) -> Result<DeliverableReport, IngestError> {
    let Deposit {
        lot,
        file_name,
        content,
        channel,
        received_at,
    } = deposit;
    let sha = crate::dossier::hex(&Sha256::digest(content));
    let mut report = DeliverableReport {
        file_name: file_name.to_owned(),
        lot: lot.to_string(),
        status: DeliverableStatus::Rejected,
        numero_dossier: None,
        sha256: Some(sha.clone()),
        size_bytes: content.len() as u64,
        received_at,
        channel: channel.as_str(),
        message: String::new(),
    };
    match check(file_name, content, &sha) {
        Err(message) => {
            // Refused, but kept for examination (nothing lost on bad input): outside the
            // deliverables, under `refuses/`, stamped with the receipt time.
            let stamped = format!("{}_{file_name}", received_at.format("%Y%m%dT%H%M%S%.6fZ"));
            archive(archive_root, lot, &format!("refuses/{stamped}"), content)?;
            report.message = format!("livrable refusé, non rattaché : {message}");
        }
        Ok(name) => {
            let numero = name.numero_dossier.to_string();
            report.numero_dossier = Some(numero.clone());
            let lot_s = lot.to_string();
            if let Some(earlier) = Deliverable::by_content(conn, &lot_s, &sha)? {
                report.status = DeliverableStatus::Duplicate;
                report.message = format!(
                    "fichier déjà reçu le {} ({}) : rien de nouveau n'est conservé",
                    earlier.received_at.format("%d/%m/%Y à %H:%M UTC"),
                    earlier.file_name
                );
            } else {
                let path = archive(archive_root, lot, file_name, content)?;
                NewDeliverable {
                    lot: &lot_s,
                    numero_dossier: &numero,
                    sha256: &sha,
                    format: name.format.as_str(),
                    file_name,
                    size_bytes: content.len() as i64,
                    channel: channel.as_str(),
                    received_at: cep_store::models::to_micros(received_at.naive_utc()),
                    archive_path: &path.to_string_lossy(),
                }
                .insert(conn)?;
                let (status, message) = match deliverables::declared_hash(conn, &lot_s, &numero)? {
                    Some(Some(declared)) if declared == sha => (
                        DeliverableStatus::Matched,
                        "livrable reçu, archivé et rattaché à la fiche du dossier".to_owned(),
                    ),
                    Some(Some(_)) => (
                        DeliverableStatus::Unmatched,
                        "livrable conservé, mais la fiche actuelle du dossier déclare une autre empreinte (livrable_sha256) : corrigez la fiche ou déposez le bon fichier".to_owned(),
                    ),
                    Some(None) => (
                        DeliverableStatus::Unmatched,
                        "livrable conservé, mais la fiche actuelle du dossier ne déclare aucune empreinte (livrable_sha256) : il sera rattaché quand elle la déclarera".to_owned(),
                    ),
                    None => (
                        DeliverableStatus::Unmatched,
                        format!("livrable conservé, mais le lot {lot} n'a transmis aucun dossier {numero} : il sera rattaché à réception de sa fiche"),
                    ),
                };
                report.status = status;
                report.message = message;
            }
        }
    }
    write_report(outbox_root, lot, &report)?;
    Ok(report)
}

fn check(file_name: &str, content: &[u8], sha: &str) -> Result<DeliverableName, String> {
    let name = parse_name(file_name)?;
    if content.is_empty() {
        return Err("fichier vide".into());
    }
    if !name.format.recognises(content) {
        return Err(format!(
            "le contenu n'est pas un document {} comme l'annonce son extension",
            match name.format {
                Format::Pdf => "PDF",
                Format::Odt => "OpenDocument texte (ODT)",
            }
        ));
    }
    if name.sha256 != sha {
        return Err(format!(
            "l'empreinte SHA-256 du contenu ({sha}) n'est pas celle du nom ({}) : fichier altéré ou mal nommé",
            name.sha256
        ));
    }
    Ok(name)
}

/// Writes the file under `archive/L{ll}/livrables/`, synced, before anything is recorded.
fn archive(
    archive_root: &Path,
    lot: Lot,
    file_name: &str,
    content: &[u8],
) -> Result<PathBuf, IngestError> {
    let dir = archive_root.join(lot.folder()).join("livrables");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| IngestError::Io { path: p, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(file_name);
    let dir = path.parent().unwrap_or(&dir).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let bare = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{bare}.part"));
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(content).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(path)
}

/// `outbox/L{ll}/livrables/{file_name}.rapport.json`.
fn write_report(
    outbox_root: &Path,
    lot: Lot,
    report: &DeliverableReport,
) -> Result<(), IngestError> {
    let dir = outbox_root.join(lot.folder()).join("livrables");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| IngestError::Io { path: p, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(format!("{}.rapport.json", report.file_name));
    let tmp = dir.join(format!(".{}.rapport.json.part", report.file_name));
    let body = serde_json::to_string_pretty(report).expect("a report serialises") + "\n";
    std::fs::write(&tmp, body).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(())
}

/// Files waiting in `inbox/L{ll}/livrables/` (settled, not `.part`), by lot then name.
pub fn waiting_in(
    inbox: &Path,
    settle: std::time::Duration,
) -> Result<(Vec<(Lot, PathBuf)>, usize), IngestError> {
    let mut out = vec![];
    let mut waiting = 0;
    let Ok(entries) = std::fs::read_dir(inbox) else {
        return Ok((out, 0));
    };
    let now = std::time::SystemTime::now();
    for e in entries.flatten() {
        let p = e.path();
        let Some(lot) = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(Lot::of_folder)
        else {
            continue;
        };
        let dir = p.join("livrables");
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for f in files.flatten() {
            let path = f.path();
            match crate::pipeline::inbox_entry(&path, now, settle)? {
                InboxEntry::Skip => {}
                InboxEntry::Wait => waiting += 1,
                InboxEntry::Take { .. } => out.push((lot, path)),
            }
        }
    }
    out.sort();
    Ok((out, waiting))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn point_34_a_deliverable_is_named_after_its_dossier_and_content() {
        let n = parse_name(&format!("AB250301000001_{}.pdf", SHA.to_uppercase()));
        // The numéro must be a dossier number of the spec; the hash is kept in lower case.
        match n {
            Ok(n) => {
                assert_eq!(n.sha256, SHA);
                assert_eq!(n.format, Format::Pdf);
            }
            Err(e) => panic!("{e}"),
        }
        assert!(parse_name(&format!("AB250301000001_{SHA}.docx")).is_err());
        assert!(parse_name("AB250301000001.pdf").is_err());
        assert!(parse_name(&format!("AB250301000001_{}.pdf", &SHA[..63])).is_err());
        assert!(parse_name(&format!("pas-un-dossier_{SHA}.odt")).is_err());
    }

    #[test]
    fn point_34_only_pdf_and_odf_text_content_is_taken() {
        assert!(Format::Pdf.recognises(b"%PDF-1.7\n..."));
        assert!(!Format::Pdf.recognises(b"PK\x03\x04"));
        let mut odt = b"PK\x03\x04".to_vec();
        odt.resize(30, 0);
        odt.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.text");
        assert!(Format::Odt.recognises(&odt));
        assert!(!Format::Pdf.recognises(&odt));
        let mut ods = odt[..38].to_vec();
        ods.extend_from_slice(b"application/vnd.oasis.opendocument.spreadsheet");
        assert!(
            !Format::Odt.recognises(&ods),
            "a spreadsheet is not a deliverable"
        );
    }
}
