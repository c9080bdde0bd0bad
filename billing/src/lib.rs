//! Billing (*facturation*): which effectively closed units are billable at a data cut-off and
//! why the others are not, and how they consume the purchase orders (*bons de commande*).
//!
//! The rule itself is [`cep_domain::billable`], shared with the indicators; this crate reads
//! the store as of a cut-off once ([`asof`]: every dossier with what the rules derive from it,
//! read by the indicators and the documents too), lists the closed units with their verdict
//! ([`units`]) and sums per order ([`orders`]).
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
pub mod asof;
pub mod bonus;
pub mod export;
#[cfg(test)]
mod fixtures;
pub mod orders;
pub mod reconcile;
pub mod statement;
pub mod units;

pub use asof::{AsOf, DossierAsOf};
pub use orders::{OrderConsumption, consumption, record_alerts};
pub use statement::{Statement, statements};
pub use units::{Unit, units_at, units_with_persons};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
}
