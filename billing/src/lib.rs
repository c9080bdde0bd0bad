//! Billing (*facturation*): which effectively closed units are billable at a data cut-off and
//! why the others are not, and how they consume the purchase orders (*bons de commande*).
//!
//! The rule itself is [`cep_domain::billable`], shared with the indicators; this crate reads
//! the store as of a cut-off ([`units`]) and sums per order ([`orders`]).
//!
//! [`export`] writes `units.csv` and `orders.csv` (`cep bill --out DIR`).
//!
//! [`statement`] makes the consumption statements per order and quarter (exact cents, VAT on
//! the total rounded half-up).
//!
//! [`reconcile`] compares them with the operators' statement numbers (`numero_decompte`).
//!
//! [`bonus`] computes the half-yearly quality bonus per lot from 8.1 (the scheme's default is an
//! assumption until the CCAP's values are entered).
//!
//! Still to come (issue 7): order amendments and closing from the command line (re-importing
//! the order's CSV line amends it today), stored alerts, the scheme read from the configuration
//! file.

pub mod bonus;
pub mod export;
#[cfg(test)]
mod fixtures;
pub mod orders;
pub mod reconcile;
pub mod statement;
pub mod units;

pub use orders::{OrderConsumption, consumption, record_alerts};
pub use statement::{Statement, statements};
pub use units::{Unit, units_at, units_with_persons};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
}
