//! The CEP domain: pure types and rules of the framework agreement (CCTP n°2019-04-04) and
//! of the exchange format `feed-format-v1`. No I/O: everything here is computed from its
//! arguments, so every other crate can rely on it and test against it.
//!
//! - [`lot`]: the 19 lots and the region each serves;
//! - [`work_unit`]: the work units (unités d'œuvre) UO0, UO1, UO2.1, UO2.2;
//! - [`ids`]: dossier numbers, purchase orders and consumption references, statement numbers;
//! - [`nir`]: the French social-security number (NIR), its key and consistency;
//! - [`reference`]: the reference tables of the feed format (spec §8), with French labels;
//! - [`deadline`]: deadlines, automatic abandonment and effective closure (CCTP 1.2.5–2.1);
//! - [`calendar`]: French public holidays and working days, by region;
//! - [`paris`]: civil time in Europe/Paris (calendar dates of instants);
//! - [`period`]: calendar months, quarters and half-years;
//! - [`person`]: one person's dossiers across operators: continuity, concurrent CEP;
//! - [`mediation`]: complaints and the médiateur's cases;
//! - [`indicator`]: the catalogue of the CCTP 4.3 indicators (labels, kinds, good directions).

pub mod billable;
pub mod calendar;
pub mod deadline;
pub mod deliverable;
pub mod feed_watch;
pub mod ids;
pub mod indicator;
pub mod lot;
pub mod mediation;
pub mod nir;
pub mod paris;
pub mod period;
pub mod person;
pub mod reference;
pub mod work_unit;

pub use calendar::{Calendar, first_interaction, rdv_delay, working_days_between};
pub use deadline::{Closure, ClosureKind, ClosureMotif, add_months, deadline};
pub use ids::{
    ConsumptionRef, DossierNumber, IdError, OperatorCode, PurchaseOrderRef, StatementNumber,
};
pub use lot::Lot;
pub use nir::{Nir, NirError, NirMismatch, Sex};
pub use period::{HalfYear, Quarter, YearMonth};
pub use reference::RefTable;
pub use work_unit::WorkUnit;
