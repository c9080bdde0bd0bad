//! CEP ingestion: the exchange format v1 (`../shared/spec/feed-format-v1.md`) checked and
//! stored with full history, processing reports back to the operators.
//!
//! - [`pipeline`]: receipt before parsing, one transaction per file, the report;
//! - [`csv`], [`decode`], [`source`]: reading CSV (streaming) and JSON bodies;
//! - [`dossier`]: the `DOSSIERS` columns and the checks of one line;
//! - [`apply`]: the checks against the store and the batched writes;
//! - [`other_kinds`]: `RECLAMATIONS` and `MOYENS`;
//! - [`identity`]: the concurrent CEP checked again once a batch's persons are linked;
//! - [`anomaly`], [`report`]: anomaly codes, French messages, processing reports.

pub mod anomaly;
pub mod apply;
pub mod bench;
pub mod buyer;
pub mod csv;
pub mod decode;
pub mod deliverable;
pub mod dossier;
pub mod file_name;
pub mod identity;
pub mod monitor;
pub mod other_kinds;
pub mod pipeline;
pub mod pull;
pub mod report;
pub mod source;
pub mod values;

pub use anomaly::{Anomaly, AnomalyCode, Severity};
pub use file_name::FeedKind;
pub use pipeline::{Channel, IngestError, Ingestor, Received, Submission};
pub use report::{ProcessingReport, Status};
