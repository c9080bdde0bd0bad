//! Publishing: documents rendered, written to a folder when asked, stored (downloadable from the
//! API) and queued for e-mail to the recipients configured for their type and lot. Storing and queueing are idempotent: the
//! same document (type, lot, period, cut-off) is stored once and mailed once per recipient.

use crate::{Document, Renderer, ReportError};
use cep_store::Store;
use cep_store::models::reports::{NewDocument, OutboxEmail};
use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// Who receives which documents (`[[reports.recipients]]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipients {
    /// A document type (`comite-suivi`, `synthese-nationale`, `revue-qualite`,
    /// `comite-pilotage`, `comite-regulation`, `releve`) or `*` for all.
    pub kind: String,
    /// Only the documents of this lot; none: every document of the type, national ones too.
    #[serde(default)]
    pub lot: Option<String>,
    pub to: Vec<String>,
}

impl Recipients {
    fn wants(&self, d: &Document) -> bool {
        (self.kind == "*" || self.kind == d.kind.as_str())
            && self.lot.as_ref().is_none_or(|l| d.lot.as_ref() == Some(l))
    }
}

/// What publishing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// (document id, file name, newly stored).
    pub documents: Vec<(i64, String, bool)>,
    pub emails_queued: usize,
    /// The files written (when a folder was given).
    pub files: Vec<std::path::PathBuf>,
}

pub fn publish(
    store: &Store,
    renderer: &Renderer,
    docs: &[Document],
    cutoff: NaiveDateTime,
    recipients: &[Recipients],
    now: NaiveDateTime,
    folder: Option<&std::path::Path>,
) -> Result<Published, ReportError> {
    let mut out = Published::default();
    let mut conn = store.conn().map_err(crate::context::ContextError::from)?;
    for (i, d) in docs.iter().enumerate() {
        tracing::info!("rendering {}/{} {}", i + 1, docs.len(), d.file_name);
        let pdf = d.render(renderer)?;
        if let Some(dir) = folder {
            out.files
                .push(crate::write_atomically(dir, &d.file_name, &pdf)?);
        }
        let sha256 = Sha256::digest(&pdf)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let (id, new) = NewDocument {
            kind: d.kind.as_str().to_owned(),
            lot: d.lot.clone(),
            period: d.period.clone(),
            cutoff,
            file_name: d.file_name.clone(),
            sha256,
            pdf,
            created_at: now,
        }
        .store(&mut conn)
        .map_err(crate::context::ContextError::from)?;
        let subject = format!(
            "CEP — {}",
            d.data["subtitle"]
                .as_str()
                .map(|s| format!("{} — {s}", d.data["title"].as_str().unwrap_or("")))
                .unwrap_or_else(|| d.file_name.clone())
        );
        for r in recipients.iter().filter(|r| r.wants(d)) {
            for to in &r.to {
                if OutboxEmail::enqueue(&mut conn, id, to, &subject, now)
                    .map_err(crate::context::ContextError::from)?
                {
                    out.emails_queued += 1;
                }
            }
        }
        out.documents.push((id, d.file_name.clone(), new));
    }
    Ok(out)
}
