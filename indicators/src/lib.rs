//! The CCTP 4.3 indicators (`indicators-v1`): monthly 1.1–6.8 and half-yearly 7.1–8.7, per lot
//! (or region) and national, as of a data cut-off.
//!
//! The flow: [`load`] reads the store as of a cut-off into plain [`inputs`] (the domain and
//! billing decide closures, eligibility and billability per dossier); [`frames`] makes Polars
//! frames of them, schemas checked; [`compute`] expresses every indicator as lazy selections
//! that are counted per group and collected once; [`run`] stores a run and writes its CSV.
//! A drill-down lists the dossiers behind any numerator or denominator from the same
//! selection that counted them.
//!
//! Polars lives in this crate only: ingestion and the API do not build it.

pub mod compute;
pub mod frames;
pub mod inputs;
pub mod load;
pub mod reference;
pub mod run;

pub use compute::{DrillDown, Part, Period};
pub use inputs::Inputs;
pub use run::{IndicatorValue, Prepared, compute_at, store_run, write_csv};

/// Why indicators could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
    #[error(transparent)]
    Billing(#[from] cep_billing::BillingError),
    #[error("Polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
    #[error("input frame schema: {0}")]
    Schema(String),
    #[error("unknown indicator {0}")]
    Unknown(String),
    #[error("{0}")]
    Input(String),
}
