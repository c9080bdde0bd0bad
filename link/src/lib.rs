//! Identity resolution (*rapprochement des identités*): one pseudonymous national person id
//! behind the person ids each operator gives its beneficiaries.
//!
//! The pipeline, pure and without I/O up to [`run`]:
//! [`normalise`] the identity fields → [`record::Features`] → [`block`] keys and candidate
//! pairs → [`compare`] into comparison vectors → a Fellegi–Sunter [`model`] estimated by EM →
//! [`cluster`] under the NIR and anti-chaining constraints → [`engine::assign_ids`], which keeps
//! existing national ids stable. [`run`] loads and saves it all; [`eval`] measures accuracy
//! against a known truth.

pub mod block;
pub mod cluster;
pub mod compare;
pub mod engine;
pub mod eval;
pub mod model;
pub mod normalise;
pub mod record;
pub mod run;
#[cfg(feature = "synth")]
pub mod synth;

pub use engine::{Decisions, IdChange, Index, LinkStats, Outcome, Settings, assign_ids, link_all};
pub use model::Model;
pub use record::{Features, IdentityFields};
pub use run::{LinkError, Mode, RunSummary};
