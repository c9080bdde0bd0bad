//! The committee documents of a period (`cep report`, the scheduler's monthly, quarterly,
//! half-yearly and yearly jobs, the demo): the dossiers read once as of the cut-off, the
//! indicator runs the documents show computed and stored from that same view when missing,
//! the documents rendered, stored (downloadable from the API), written to a folder when one is
//! given, and queued for e-mail to their recipients.

use crate::Result;
use crate::settings::BillingSettings;
use cep_reports::publish::Recipients;
use cep_reports::{Context, Period, Renderer};
use cep_store::Store;
use chrono::NaiveDateTime;
use std::path::{Path, PathBuf};

/// What publishing a period did.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The documents stored (and written, when a folder was given).
    pub documents: usize,
    pub files: Vec<PathBuf>,
    pub emails_queued: usize,
    /// Indicator runs computed for these documents.
    pub runs_computed: Vec<i64>,
}

/// What to publish.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub period: Period,
    /// Only this lot's documents (no national document).
    pub lot: Option<cep_domain::Lot>,
    pub cutoff: NaiveDateTime,
    /// Who receives which documents (none: stored, not mailed).
    pub recipients: &'a [Recipients],
    /// Where to write the PDF files, if anywhere.
    pub folder: Option<&'a Path>,
}

/// Publishes the documents of `request.period` as of its cut-off.
pub fn publish(
    store: &Store,
    renderer: &Renderer,
    billing: &BillingSettings,
    request: Request<'_>,
    now: NaiveDateTime,
) -> Result<Published> {
    let rules = billing.rules();
    let asof = cep_billing::AsOf::load(&mut *store.conn()?, request.cutoff, rules)?;
    let runs_computed = crate::compute::ensure_runs(store, request.period, &asof)?;
    let ctx = Context::with_asof(&mut *store.conn()?, asof)?;
    let docs = cep_reports::documents(&ctx, request.period, request.lot, &billing.scheme()?)?;
    let published = cep_reports::publish::publish(
        store,
        renderer,
        &docs,
        request.cutoff,
        request.recipients,
        now,
        request.folder,
    )?;
    Ok(Published {
        documents: published.documents.len(),
        files: published.files,
        emails_queued: published.emails_queued,
        runs_computed,
    })
}
