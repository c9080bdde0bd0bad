//! Purchase-order changes (`cep order amend|close`): each is recorded as the order's new
//! version through the same checks and history as `cep import purchase-orders`.

use crate::{Context, Result, bail};
use cep_ingest::buyer::{ImportKind, ImportOutcome, import};
use cep_store::Store;
use cep_store::models::buyer::PurchaseOrder;
use chrono::NaiveDate;

/// The current version of an order.
pub fn current(store: &Store, reference: &str) -> Result<PurchaseOrder> {
    PurchaseOrder::all_current(&mut *store.conn()?)?
        .into_iter()
        .find(|o| o.reference == reference)
        .with_context(|| format!("no purchase order {reference} in the registry"))
}

/// Euros with two decimals, as the import files write them.
pub fn euros(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A change asked for an order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Amendment {
    pub quantity: Option<i64>,
    pub date_debut: Option<NaiveDate>,
    pub date_fin: Option<NaiveDate>,
}

/// What a change did: the order as recorded, and the import's outcome (`amended` 0: nothing
/// changed).
#[derive(Debug)]
pub struct Changed {
    pub order: PurchaseOrder,
    pub outcome: ImportOutcome,
}

/// Amends an order's quantity or dates.
pub fn amend(store: &Store, reference: &str, a: Amendment) -> Result<Changed> {
    if a.quantity.is_none() && a.date_debut.is_none() && a.date_fin.is_none() {
        bail!("nothing to amend: give --quantity, --date-debut or --date-fin");
    }
    let mut o = current(store, reference)?;
    if let Some(q) = a.quantity {
        o.quantite = q;
    }
    if let Some(d) = a.date_debut {
        o.date_debut = d;
    }
    if let Some(d) = a.date_fin {
        o.date_fin = d;
    }
    record(store, o)
}

/// Ends an order on `day`: its `date_fin` becomes that day.
pub fn close(store: &Store, reference: &str, day: NaiveDate) -> Result<Changed> {
    let mut o = current(store, reference)?;
    if day < o.date_debut {
        bail!(
            "{reference} starts on {}: it cannot end on {day}",
            o.date_debut
        );
    }
    o.date_fin = day;
    record(store, o)
}

/// Records `o` as the order's new version through the import path.
fn record(store: &Store, o: PurchaseOrder) -> Result<Changed> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(format!("order-{}.csv", o.reference));
    std::fs::write(
        &path,
        format!(
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n{};{};{};{};{}.{:04};{};{}\n",
            o.reference,
            o.date_notification,
            o.quantite,
            euros(o.prix_unitaire_ht_cents),
            o.taux_tva_bp / 10_000,
            o.taux_tva_bp % 10_000,
            o.date_debut,
            o.date_fin
        ),
    )?;
    let outcome = import(store, ImportKind::PurchaseOrders, &path)?;
    Ok(Changed { order: o, outcome })
}
