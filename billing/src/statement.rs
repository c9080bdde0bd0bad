//! Consumption statements (*états de consommation*) per purchase order and quarter: every unit
//! billed on the order whose effective closure falls in the quarter, the amounts HT, VAT and TTC
//! in exact cents, the cumulative consumption and the remaining balance, at a data cut-off.
//!
//! Money: integer cents end to end. The amount HT is quantity × unit price; the VAT is computed
//! once on the statement's total HT and rounded half-up to the cent; TTC = HT + VAT.

use crate::units::Unit;
use cep_domain::ids::PurchaseOrderRef;
use cep_domain::{Quarter, WorkUnit};
use cep_store::models::buyer::PurchaseOrder;
use chrono::{NaiveDate, NaiveDateTime};

/// One billed unit of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub numero_dossier: String,
    pub reference_bc: Option<String>,
    pub uo: WorkUnit,
    pub date_engagement: NaiveDate,
    pub date_cloture: NaiveDate,
}

/// A consumption statement of one order for one quarter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// `EC-{order reference}-{quarter}`, e.g. `EC-2025-Lot08-UO01-01-2025-T3`.
    pub number: String,
    pub order_reference: String,
    pub quarter: Quarter,
    pub cutoff: NaiveDateTime,
    pub lines: Vec<StatementLine>,
    pub unit_price_ht_cents: i64,
    pub amount_ht_cents: i64,
    /// VAT rate in basis points (2000 = 20 %).
    pub vat_rate_bp: i32,
    pub vat_cents: i64,
    pub amount_ttc_cents: i64,
    /// The order's quantity.
    pub ordered: u32,
    /// Units consumed from the order's start to the end of the quarter.
    pub consumed_to_date: u32,
    pub remaining: u32,
}

/// VAT on an amount HT, rounded half-up to the cent (amounts are never negative here).
pub fn vat_cents(amount_ht_cents: i64, rate_bp: i32) -> i64 {
    (amount_ht_cents * i64::from(rate_bp) + 5_000).div_euclid(10_000)
}

/// The statements of `quarter`: one per order with at least one unit billed in it, in order
/// reference order, each line in (closure date, dossier number) order.
pub fn statements(
    orders: &[PurchaseOrder],
    units: &[Unit],
    quarter: Quarter,
    cutoff: NaiveDateTime,
) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut orders: Vec<&PurchaseOrder> = orders.iter().collect();
    orders.sort_by(|a, b| a.reference.cmp(&b.reference));
    for o in orders {
        let Ok(reference) = o.reference.parse::<PurchaseOrderRef>() else {
            continue;
        };
        let mut billed: Vec<&Unit> = units
            .iter()
            .filter(|u| u.verdict.consumes == Some(reference))
            .collect();
        billed.sort_by(|a, b| {
            (a.closure.date, &a.numero_dossier).cmp(&(b.closure.date, &b.numero_dossier))
        });
        let lines: Vec<StatementLine> = billed
            .iter()
            .filter(|u| quarter.contains(u.closure.date))
            .map(|u| StatementLine {
                numero_dossier: u.numero_dossier.clone(),
                reference_bc: u.reference_bc.clone(),
                uo: u.uo,
                date_engagement: u.engagement,
                date_cloture: u.closure.date,
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let consumed_to_date = billed
            .iter()
            .filter(|u| u.closure.date <= quarter.last_day())
            .count() as u32;
        let ordered = u32::try_from(o.quantite).unwrap_or(0);
        let amount_ht_cents = lines.len() as i64 * o.prix_unitaire_ht_cents;
        let vat = vat_cents(amount_ht_cents, o.taux_tva_bp);
        out.push(Statement {
            number: format!("EC-{}-{quarter}", o.reference),
            order_reference: o.reference.clone(),
            quarter,
            cutoff,
            lines,
            unit_price_ht_cents: o.prix_unitaire_ht_cents,
            amount_ht_cents,
            vat_rate_bp: o.taux_tva_bp,
            vat_cents: vat,
            amount_ttc_cents: amount_ht_cents + vat,
            ordered,
            consumed_to_date,
            remaining: ordered.saturating_sub(consumed_to_date),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{order, unit};

    /// Units closing on these days, served in closure order up to `quantity` (as
    /// `domain::billable::decide` does).
    fn units(days: &[&str], quantity: usize) -> Vec<Unit> {
        days.iter()
            .enumerate()
            .map(|(i, d)| unit(i, d, i < quantity, true))
            .collect()
    }

    fn cutoff() -> NaiveDateTime {
        "2025-10-01T00:00:00".parse().unwrap()
    }

    /// 333.33 € × 3 = 999.99 € HT; VAT 20 % = 199.998 → 200.00 €; TTC 1,199.99 €.
    #[test]
    fn vat_on_the_total_rounded_half_up() {
        let s = statements(
            &[order(10, 33_333)],
            &units(&["2025-02-01", "2025-02-02", "2025-03-31"], 10),
            "2025-T1".parse().unwrap(),
            cutoff(),
        );
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.number, "EC-2025-Lot08-UO01-01-2025-T1");
        assert_eq!(s.lines.len(), 3);
        assert_eq!(
            (s.amount_ht_cents, s.vat_cents, s.amount_ttc_cents),
            (99_999, 20_000, 119_999)
        );
        assert_eq!(
            s.amount_ttc_cents,
            s.amount_ht_cents + s.vat_cents,
            "totals add up"
        );
        // Half-up at exactly half a cent: 0.025 € of VAT on 0.125 € → 0.03 €.
        assert_eq!(vat_cents(25, 1000), 3);
        assert_eq!(vat_cents(24, 1000), 2);
        assert_eq!(vat_cents(0, 2000), 0);
    }

    /// An order of 3 exhausted across the quarter boundary: Q1 bills 2, Q2 bills the third;
    /// the fourth unit is not billed; the cumulative consumption and balance follow.
    #[test]
    fn exhaustion_across_a_quarter_boundary() {
        let u = units(&["2025-03-10", "2025-03-31", "2025-04-01", "2025-05-02"], 3);
        let q1 = &statements(
            &[order(3, 10_000)],
            &u,
            "2025-T1".parse().unwrap(),
            cutoff(),
        )[0];
        assert_eq!(
            (q1.lines.len(), q1.consumed_to_date, q1.remaining),
            (2, 2, 1)
        );
        let q2 = &statements(
            &[order(3, 10_000)],
            &u,
            "2025-T2".parse().unwrap(),
            cutoff(),
        )[0];
        assert_eq!(
            (q2.lines.len(), q2.consumed_to_date, q2.remaining),
            (1, 3, 0)
        );
        assert_eq!(q2.lines[0].date_cloture.to_string(), "2025-04-01");
        assert!(
            statements(
                &[order(3, 10_000)],
                &u,
                "2025-T3".parse().unwrap(),
                cutoff()
            )
            .is_empty()
        );
    }
}
