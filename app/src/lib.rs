//! The use cases of the CEP regulation service, each written once and used by the `cep` binary
//! (CLI commands and `cep serve`), the scheduler and the tests:
//!
//! - [`settings`]: the configuration (defaults, a TOML file, `CEP_*` variables), checked whole;
//! - [`receive`]: the service's one receive pipeline — every channel (inbox sweep, `cep ingest`,
//!   API push, pull) goes receipt → checks → store → identity resolution → processing report;
//! - [`compute`]: indicator runs computed and stored, the runs a document needs, the
//!   drill-down engine the API is given;
//! - [`billing`]: a billing pass at a cut-off (units, consumption, alerts, statements,
//!   reconciliation, bonus);
//! - [`publish`]: the committee documents of a period, rendered, stored, queued for e-mail;
//! - [`schedule`]: the jobs of `cep serve` by Paris time and their runner;
//! - [`retention`], [`backup`]: the RGPD purge, backups and restores;
//! - [`orders`]: amending and closing purchase orders through the import path;
//! - [`bench_link`], [`bench_indicators`]: benchmarks that print their figures.
//!
//! It does not depend on the API crate: the binary wires the API to these use cases.

pub mod backup;
pub mod bench_indicators;
pub mod bench_link;
pub mod billing;
pub mod compute;
mod error;
pub mod orders;
pub mod publish;
pub mod receive;
pub mod retention;
pub mod schedule;
pub mod settings;

pub use error::{AppError, Context, Result};
pub use settings::Settings;

/// Opens the configured store and applies pending migrations.
pub fn open_store(settings: &Settings) -> Result<cep_store::Store> {
    let url = settings.database_url()?;
    cep_store::Store::open_and_migrate(&url, settings.database.pool_size)
        .with_context(|| format!("opening {}", url.masked()))
}

/// Peak resident memory of this process, in MiB (Linux).
pub fn peak_rss_mib() -> Option<f64> {
    cep_ingest::bench::peak_rss_mib()
}
