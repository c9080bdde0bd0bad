//! Committee documents (*documents de comité*) as PDF: the monthly follow-up report of each lot
//! and the national summary, the half-yearly quality review, the yearly steering- and
//! regulation-committee files, and the consumption statements. All in French; each states its
//! data cut-off and the indicator run it shows.
//!
//! The flow: [`context::Context`] reads the store once for a cut-off (stored indicator runs —
//! this crate does not compute indicators and does not build Polars —, billing verdicts,
//! orders, processing reports, complaints, mediation cases); [`documents`] turns it into each
//! document's data (text and numbers formatted the French way, [`format`]) and charts
//! ([`charts`], plotters SVG); [`render::Renderer`] sets it with the document's Typst template
//! (`templates/*.typ`) into a PDF with its fonts embedded.

pub mod charts;
pub mod context;
pub mod documents;
pub mod format;
pub mod mail;
pub mod publish;
pub mod render;

pub use context::Context;
pub use render::Renderer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The document types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    /// *Comité de suivi mensuel*, one per lot.
    MonthlyFollowUp,
    /// *Synthèse nationale mensuelle*.
    NationalSummary,
    /// *Revue qualité semestrielle*, one per lot.
    QualityReview,
    /// *Comité de pilotage annuel*, one per lot.
    SteeringCommittee,
    /// *Comité de régulation annuel*, all lots.
    RegulationCommittee,
    /// *Relevé de consommation*, one per order and quarter.
    Statement,
}

impl DocumentKind {
    /// The template that lays it out.
    pub const fn template(self) -> &'static str {
        match self {
            DocumentKind::MonthlyFollowUp => "comite-suivi.typ",
            DocumentKind::NationalSummary => "synthese-nationale.typ",
            DocumentKind::QualityReview => "revue-qualite.typ",
            DocumentKind::SteeringCommittee => "comite-pilotage.typ",
            DocumentKind::RegulationCommittee => "comite-regulation.typ",
            DocumentKind::Statement => "releve.typ",
        }
    }

    /// Its name in configuration and in the API (`comite-suivi`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentKind::MonthlyFollowUp => "comite-suivi",
            DocumentKind::NationalSummary => "synthese-nationale",
            DocumentKind::QualityReview => "revue-qualite",
            DocumentKind::SteeringCommittee => "comite-pilotage",
            DocumentKind::RegulationCommittee => "comite-regulation",
            DocumentKind::Statement => "releve",
        }
    }
}

/// A document ready to render: its data and charts for its template.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: DocumentKind,
    /// The lot it is about (`None`: national or all lots).
    pub lot: Option<String>,
    /// `2025-10`, `2025-S2`, `2025`, or a statement's quarter.
    pub period: String,
    /// What a person sees: `comite-suivi_L08_2025-10.pdf`.
    pub file_name: String,
    pub data: serde_json::Value,
    pub charts: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Context(#[from] context::ContextError),
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Document {
    pub fn render(&self, renderer: &Renderer) -> Result<Vec<u8>, ReportError> {
        Ok(renderer.pdf(self.kind.template(), &self.data, &self.charts)?)
    }
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

/// Which documents a period asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Month(cep_domain::YearMonth),
    Half(cep_domain::HalfYear),
    Year(i32),
    Quarter(cep_domain::Quarter),
}

impl std::fmt::Display for Period {
    /// `2025-10`, `2025-S2`, `2025`, `2025-T3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Period::Month(m) => write!(f, "{m}"),
            Period::Half(h) => write!(f, "{h}"),
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(q) => write!(f, "{q}"),
        }
    }
}

/// Every document of `period` at the context's cut-off (of `lot` only when given, the
/// national documents only without one): monthly → follow-up per lot and the national summary;
/// half-year → quality reviews; year → steering files and the regulation file; quarter → the
/// statements issued for it.
pub fn documents(
    ctx: &Context,
    period: Period,
    lot: Option<cep_domain::Lot>,
    scheme: &cep_billing::bonus::BonusScheme,
) -> Result<Vec<Document>, ReportError> {
    let lots = match lot {
        Some(l) => vec![l],
        None => documents::lots_with_data(ctx),
    };
    let mut out = Vec::new();
    match period {
        Period::Month(m) => {
            for l in &lots {
                out.push(documents::monthly(ctx, *l, m)?);
            }
            if lot.is_none() {
                out.push(documents::national(ctx, m)?);
            }
        }
        Period::Half(h) => {
            for l in &lots {
                out.push(documents::quality(ctx, *l, h, scheme)?);
            }
        }
        Period::Year(y) => {
            for l in &lots {
                out.push(documents::steering(ctx, *l, y)?);
            }
            if lot.is_none() {
                out.push(documents::regulation(ctx, y)?);
            }
        }
        Period::Quarter(q) => {
            let mut latest: BTreeMap<&str, &cep_store::models::buyer::StoredStatement> =
                BTreeMap::new();
            for s in ctx.statements.iter().filter(|s| s.cutoff <= ctx.cutoff) {
                if s.number.ends_with(&q.to_string())
                    && lot.is_none_or(|l| {
                        cep_domain::PurchaseOrderRef::find_in(&s.number)
                            .is_some_and(|o| o.lot() == l)
                    })
                {
                    let e = latest.entry(s.number.as_str()).or_insert(s);
                    if s.cutoff > e.cutoff {
                        *e = s;
                    }
                }
            }
            out.extend(latest.values().map(|s| documents::statement(s)));
        }
    }
    Ok(out)
}
