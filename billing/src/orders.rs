//! Consumption of each purchase order by the billable units at a cut-off.

use crate::units::Unit;
use cep_domain::ids::PurchaseOrderRef;
use cep_store::models::buyer::PurchaseOrder;
use chrono::NaiveDate;
use std::collections::HashMap;

/// One order's consumption at a cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderConsumption {
    pub reference: String,
    pub lot: String,
    pub uo: String,
    pub quantity: u32,
    /// Billable units served by this order.
    pub consumed: u32,
    pub remaining: u32,
    pub unit_price_ht_cents: i64,
    /// consumed × unit price, in cents (exact).
    pub value_consumed_ht_cents: i64,
    /// 80 when 80 % of the quantity is consumed, 100 when all of it.
    pub alert: Option<u8>,
    /// The day the quantity runs out at the pace since the order's start, when it is used.
    pub projected_exhaustion: Option<NaiveDate>,
}

/// Consumption of every order on `today` (the cut-off's date), in reference order.
pub fn consumption(
    orders: &[PurchaseOrder],
    units: &[Unit],
    today: NaiveDate,
) -> Vec<OrderConsumption> {
    let mut consumed: HashMap<PurchaseOrderRef, u32> = HashMap::new();
    for u in units {
        if let Some(o) = u.verdict.consumes {
            *consumed.entry(o).or_default() += 1;
        }
    }
    let mut out: Vec<OrderConsumption> = orders
        .iter()
        .map(|o| {
            let quantity = u32::try_from(o.quantite).unwrap_or(0);
            let used = o
                .reference
                .parse::<PurchaseOrderRef>()
                .ok()
                .and_then(|r| consumed.get(&r).copied())
                .unwrap_or(0);
            let remaining = quantity.saturating_sub(used);
            let alert = if quantity > 0 && used >= quantity {
                Some(100)
            } else if quantity > 0 && u64::from(used) * 100 >= u64::from(quantity) * 80 {
                Some(80)
            } else {
                None
            };
            // Pace: units per day since the order started (at least one day).
            let days = (today - o.date_debut).num_days().max(1);
            let projected_exhaustion = (used > 0 && remaining > 0).then(|| {
                let (a, b) = (i64::from(remaining) * days, i64::from(used));
                let days_left = (a + b - 1) / b;
                today + chrono::Duration::days(days_left)
            });
            OrderConsumption {
                reference: o.reference.clone(),
                lot: o.lot.clone(),
                uo: o.uo.clone(),
                quantity,
                consumed: used,
                remaining,
                unit_price_ht_cents: o.prix_unitaire_ht_cents,
                value_consumed_ht_cents: i64::from(used) * o.prix_unitaire_ht_cents,
                alert,
                projected_exhaustion,
            }
        })
        .collect();
    out.sort_by(|a, b| a.reference.cmp(&b.reference));
    out
}

/// Records the alerts of this consumption (80 % and, when reached, 100 %) not recorded yet for
/// the same order, level and quantity; returns those new.
pub fn record_alerts(
    conn: &mut cep_store::DbConnection,
    orders: &[OrderConsumption],
    cutoff: chrono::NaiveDateTime,
) -> Result<Vec<cep_store::models::buyer::OrderAlert>, crate::BillingError> {
    let now = cep_store::models::now_utc();
    let alerts: Vec<cep_store::models::buyer::OrderAlert> = orders
        .iter()
        .flat_map(|o| {
            let levels: &[i32] = match o.alert {
                Some(100) => &[80, 100],
                Some(80) => &[80],
                _ => &[],
            };
            levels
                .iter()
                .map(move |&level| cep_store::models::buyer::OrderAlert {
                    id: 0,
                    order_reference: o.reference.clone(),
                    level,
                    consumed: i64::from(o.consumed),
                    quantity: i64::from(o.quantity),
                    cutoff,
                    recorded_at: now,
                })
        })
        .collect();
    Ok(cep_store::models::buyer::OrderAlert::record_new(
        conn, &alerts,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{order, unit};

    fn units(billable: usize, not: usize) -> Vec<Unit> {
        (0..billable + not)
            .map(|i| unit(i, "2025-03-01", i < billable, true))
            .collect()
    }

    #[test]
    fn alerts_at_80_and_100_percent() {
        let today = "2025-04-10".parse().unwrap();
        let at =
            |q: i64, n: usize| consumption(&[order(q, 33_333)], &units(n, 1), today)[0].clone();
        assert_eq!(at(10, 7).alert, None);
        assert_eq!(at(10, 8).alert, Some(80), "80 % reached");
        assert_eq!(at(10, 10).alert, Some(100), "exhausted");
        let c = at(10, 8);
        assert_eq!((c.consumed, c.remaining), (8, 2));
        // 333.33 € × 8, exact to the cent.
        assert_eq!(c.value_consumed_ht_cents, 266_664);
    }

    /// 10 units in 99 days since the order started: 5 more at that pace take 50 days (49.5
    /// rounded up).
    #[test]
    fn exhaustion_projected_at_the_current_pace() {
        let today: NaiveDate = "2025-04-10".parse().unwrap();
        let c = &consumption(&[order(15, 33_333)], &units(10, 0), today)[0];
        assert_eq!(
            c.projected_exhaustion,
            Some(today + chrono::Duration::days(50))
        );
        assert_eq!(
            consumption(&[order(15, 33_333)], &units(0, 0), today)[0].projected_exhaustion,
            None
        );
        assert_eq!(
            consumption(&[order(10, 33_333)], &units(10, 0), today)[0].projected_exhaustion,
            None
        );
    }
}
