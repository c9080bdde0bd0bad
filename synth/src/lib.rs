//! A synthetic national CEP dataset with known truth: what the 19 operators would send over
//! some months, in the exact format of `feed-format-v1`, with the buyer-side inputs (spec §9)
//! and a ground-truth folder.
//!
//! ```text
//! OUT/inbox/L{ll}/CEP_L{ll}_{DOSSIERS|RECLAMATIONS|MOYENS}_{YYYYMMDD}_{nn}.csv
//! OUT/buyer/{operators,purchase-orders,surveys,mystery-contacts,deliverable-controls,populations}.csv
//! OUT/truth/persons.csv      lot;identifiant_beneficiaire;person;corruptions
//! OUT/truth/anomalies.csv    file;line;numero_dossier;code;note   (every injected anomaly)
//! OUT/truth/facts.csv        numero_dossier;fact                 (concurrent CEP, ineligible UO0, …)
//! ```
//!
//! Same seed and arguments → byte-identical output (one ChaCha stream, no hash-map ordering).

mod identity;
mod lifecycle;
mod people;
mod write;

pub use lifecycle::{Dataset, Dossier, Injection};
pub use people::{PeopleConfig, PersonRecord, people};

use cep_domain::{Lot, YearMonth};
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub seed: u64,
    /// First month of activity.
    pub start: YearMonth,
    pub months: u32,
    /// 1.0 = the real national volume: about 180,000 persons entering UO1 or UO2 a year and
    /// about twice as many UO0 contacts.
    pub scale: f64,
    /// Lots to generate (lot 19 takes over Guyane for a few months when included).
    pub lots: Vec<Lot>,
    /// Share of dossiers given an injected anomaly (at least one of each kind is injected).
    pub anomaly_rate: f64,
}

impl SynthConfig {
    pub fn new(seed: u64, start: YearMonth, months: u32, scale: f64) -> SynthConfig {
        SynthConfig {
            seed,
            start,
            months,
            scale,
            lots: Lot::all().collect(),
            anomaly_rate: 0.002,
        }
    }
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("invalid arguments: {0}")]
    Config(String),
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub persons: usize,
    pub operator_persons: usize,
    pub dossiers: usize,
    pub fiches: usize,
    pub files: usize,
    pub injected: usize,
    pub persons_at_several_lots: usize,
}

/// Generates the dataset in memory, then writes it under `out`.
pub fn generate(config: &SynthConfig, out: &Path) -> Result<Summary, SynthError> {
    if config.months == 0 || config.months > 120 {
        return Err(SynthError::Config(format!(
            "months must be 1 to 120, got {}",
            config.months
        )));
    }
    if !(config.scale > 0.0 && config.scale <= 20.0) {
        return Err(SynthError::Config(format!(
            "scale must be above 0 and at most 20, got {}",
            config.scale
        )));
    }
    if config.lots.is_empty() {
        return Err(SynthError::Config("no lot selected".into()));
    }
    if !(0.0..=0.2).contains(&config.anomaly_rate) {
        return Err(SynthError::Config(format!(
            "anomaly rate must be 0 to 0.2, got {}",
            config.anomaly_rate
        )));
    }
    let dataset = lifecycle::build(config);
    write::write_all(config, &dataset, out)
}

pub(crate) struct SummaryCounts {
    pub multi_lot_persons: usize,
}
