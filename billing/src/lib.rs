//! Billing (*facturation*): which effectively closed units are billable at a data cut-off and
//! why the others are not, and how they consume the purchase orders (*bons de commande*).
//!
//! The rule itself is [`cep_domain::billable`], shared with the indicators; this crate reads
//! the store as of a cut-off ([`units`]) and sums per order ([`orders`]).
//!
//! [`export`] writes `units.csv` and `orders.csv` (`cep bill --out DIR`).
//!
//! Still to come (issue 7): consumption statements per order and quarter with amounts, VAT and
//! reconciliation against the operators' statement numbers, the quality bonus, `--quarter`.

pub mod export;
pub mod orders;
pub mod units;

pub use orders::{OrderConsumption, consumption};
pub use units::{Unit, units_at, units_with_persons};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Store(#[from] cep_store::StoreError),
}
