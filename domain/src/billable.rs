//! Which effectively closed units are billable, and why the others are not
//! (`indicators-v1`, "Billable closure" and resolved points 9, 10, 15 and 20).
//!
//! These rules are shared by the indicators (4.x, 5.x) and billing (consumption of purchase
//! orders, statements), so that both always agree. Pure: the caller gathers the facts of each
//! unit as of its cut-off.

use crate::deadline::{Closure, ClosureKind};
use crate::ids::PurchaseOrderRef;
use crate::lot::Lot;
use crate::work_unit::WorkUnit;
use std::collections::HashMap;

/// Why a closed unit is not billable, in the spec's order of precedence (point 20): the first
/// reason of a unit is the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotBillable {
    /// The dossier's status is not eligible (point 10), UO0 included.
    Ineligible,
    /// Closed by abandonment, and the billing configuration does not bill abandonments.
    Abandonment,
    /// A UO1 or UO2.1 closed voluntarily without a deliverable hash.
    LivrableMissing,
    /// `reference_bc` names no known purchase order (or is missing or malformed).
    BcUnknown,
    /// The order is of another lot or another work unit.
    BcMismatch,
    /// The consumption reference is already used by another dossier.
    BcDuplicate,
    /// Billable on every other ground, but past the order's quantity (point 15).
    BcExhausted,
    /// Flagged `CONCURRENT_CEP` and the configuration holds flagged units back.
    ConcurrentCepHeld,
}

impl NotBillable {
    /// The code used in exports (`units.csv`) and reports.
    pub fn code(self) -> &'static str {
        match self {
            NotBillable::Ineligible => "INELIGIBLE",
            NotBillable::Abandonment => "ABANDONMENT",
            NotBillable::LivrableMissing => "LIVRABLE_MISSING",
            NotBillable::BcUnknown => "BC_UNKNOWN",
            NotBillable::BcMismatch => "BC_MISMATCH",
            NotBillable::BcDuplicate => "BC_DUPLICATE",
            NotBillable::BcExhausted => "BC_EXHAUSTED",
            NotBillable::ConcurrentCepHeld => "CONCURRENT_CEP_HELD",
        }
    }
}

/// The billing configuration's choices (CCAP articles not in the CCTP; defaults documented).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BillingRules {
    /// Abandonments are billable (default: no).
    pub bill_abandonments: bool,
    /// Units flagged `CONCURRENT_CEP` are held back until reviewed (default: no, they stay
    /// billable and are only flagged).
    pub hold_concurrent: bool,
}

/// Where a unit's `reference_bc` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderLink {
    /// No reference, a malformed one, or an order that is not in the registry.
    Unknown,
    /// A known order of this lot and work unit.
    Known(PurchaseOrderRef),
    /// A known order of another lot or work unit.
    Mismatch(PurchaseOrderRef),
}

impl OrderLink {
    /// Checks a unit's order reference against the registry (`known`) and the unit's own lot
    /// and work unit.
    pub fn of(
        order: Option<PurchaseOrderRef>,
        known: impl Fn(&PurchaseOrderRef) -> bool,
        lot: Lot,
        uo: WorkUnit,
    ) -> OrderLink {
        match order {
            Some(o) if known(&o) => {
                if o.lot() == lot && o.work_unit() == uo {
                    OrderLink::Known(o)
                } else {
                    OrderLink::Mismatch(o)
                }
            }
            _ => OrderLink::Unknown,
        }
    }
}

/// What is known of an effectively closed unit at the cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedUnit {
    pub numero_dossier: String,
    pub lot: Lot,
    pub uo: WorkUnit,
    pub closure: Closure,
    /// Eligible at the cut-off (point 10, continuity included).
    pub eligible: bool,
    /// A deliverable hash is on the latest fiche.
    pub has_deliverable: bool,
    pub order: OrderLink,
    /// Its consumption reference is also claimed by another dossier that owns it.
    pub duplicate_reference: bool,
    /// Flagged `CONCURRENT_CEP` at the cut-off.
    pub concurrent: bool,
}

/// The verdict on one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Every reason that applies, in precedence order; empty when billable.
    pub reasons: Vec<NotBillable>,
    /// The order whose quantity the unit consumes, when billable.
    pub consumes: Option<PurchaseOrderRef>,
}

impl Verdict {
    pub fn billable(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The first reason by precedence (point 20).
    pub fn reason(&self) -> Option<NotBillable> {
        self.reasons.first().copied()
    }
}

/// Reasons on the unit's own grounds (everything but exhaustion).
fn own_reasons(u: &ClosedUnit, rules: BillingRules) -> Vec<NotBillable> {
    let mut r = Vec::new();
    if !u.eligible {
        r.push(NotBillable::Ineligible);
    }
    let voluntary = u.closure.kind == ClosureKind::Voluntary;
    if !voluntary && !rules.bill_abandonments {
        r.push(NotBillable::Abandonment);
    }
    if voluntary && matches!(u.uo, WorkUnit::Uo1 | WorkUnit::Uo21) && !u.has_deliverable {
        r.push(NotBillable::LivrableMissing);
    }
    match u.order {
        OrderLink::Unknown => r.push(NotBillable::BcUnknown),
        OrderLink::Mismatch(_) => r.push(NotBillable::BcMismatch),
        OrderLink::Known(_) => {}
    }
    if u.duplicate_reference {
        r.push(NotBillable::BcDuplicate);
    }
    if u.concurrent && rules.hold_concurrent {
        r.push(NotBillable::ConcurrentCepHeld);
    }
    r
}

/// Decides every unit: reasons on its own grounds, then the orders' quantities served in
/// (closure date, dossier number) order among the units billable on every other ground
/// (point 15). Returns one verdict per unit, in the input order.
pub fn decide(
    units: &[ClosedUnit],
    quantity: impl Fn(&PurchaseOrderRef) -> u32,
    rules: BillingRules,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = units
        .iter()
        .map(|u| Verdict {
            reasons: own_reasons(u, rules),
            consumes: None,
        })
        .collect();
    let mut order: Vec<usize> = (0..units.len())
        .filter(|&i| verdicts[i].reasons.is_empty())
        .collect();
    order.sort_by(|&a, &b| {
        (units[a].closure.date, &units[a].numero_dossier)
            .cmp(&(units[b].closure.date, &units[b].numero_dossier))
    });
    let mut served: HashMap<PurchaseOrderRef, u32> = HashMap::new();
    for i in order {
        let OrderLink::Known(o) = units[i].order else {
            continue;
        };
        let n = served.entry(o).or_default();
        if *n < quantity(&o) {
            *n += 1;
            verdicts[i].consumes = Some(o);
        } else {
            verdicts[i].reasons.push(NotBillable::BcExhausted);
        }
    }
    // Precedence order (point 20): exhaustion comes before a held concurrent CEP.
    for v in &mut verdicts {
        v.reasons.sort_unstable();
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lot: u8, uo: WorkUnit, n: u8) -> PurchaseOrderRef {
        PurchaseOrderRef::new(2025, Lot::new(lot).unwrap(), uo, n).unwrap()
    }

    use chrono::NaiveDate;

    fn unit(numero: &str, day: u32, uo: WorkUnit) -> ClosedUnit {
        ClosedUnit {
            numero_dossier: numero.into(),
            lot: Lot::new(8).unwrap(),
            uo,
            closure: Closure {
                date: NaiveDate::from_ymd_opt(2025, 3, day).unwrap(),
                kind: ClosureKind::Voluntary,
            },
            eligible: true,
            has_deliverable: true,
            order: OrderLink::Known(order(8, uo, 1)),
            duplicate_reference: false,
            concurrent: false,
        }
    }

    fn codes(v: &Verdict) -> Vec<&'static str> {
        v.reasons.iter().map(|r| r.code()).collect()
    }

    const PLENTY: fn(&PurchaseOrderRef) -> u32 = |_| 100;

    #[test]
    fn a_clean_unit_is_billable_and_consumes_its_order() {
        let v = decide(
            &[unit("A7250301000001", 10, WorkUnit::Uo1)],
            PLENTY,
            BillingRules::default(),
        );
        assert!(v[0].billable());
        assert_eq!(v[0].consumes, Some(order(8, WorkUnit::Uo1, 1)));
    }

    /// Point 10: an ineligible status, UO0 included, is not billable.
    #[test]
    fn ineligible_is_not_billable() {
        let mut u = unit("A7250301000001", 10, WorkUnit::Uo0);
        u.eligible = false;
        let v = decide(&[u], PLENTY, BillingRules::default());
        assert_eq!(codes(&v[0]), ["INELIGIBLE"]);
        assert_eq!(v[0].consumes, None);
    }

    /// "Abandonments are billable only if the billing configuration says so (default: not)".
    #[test]
    fn abandonment_follows_the_configuration() {
        let mut u = unit("A7250301000001", 10, WorkUnit::Uo21);
        u.closure.kind = ClosureKind::Abandonment;
        u.has_deliverable = false;
        let v = decide(std::slice::from_ref(&u), PLENTY, BillingRules::default());
        assert_eq!(
            codes(&v[0]),
            ["ABANDONMENT"],
            "no deliverable is asked of an abandonment"
        );
        let rules = BillingRules {
            bill_abandonments: true,
            ..Default::default()
        };
        assert!(decide(&[u], PLENTY, rules)[0].billable());
    }

    /// UO1 and UO2.1 closed voluntarily need a deliverable hash; UO0 and UO2.2 do not.
    #[test]
    fn deliverable_required_for_uo1_and_uo21_only() {
        for (uo, expected) in [
            (WorkUnit::Uo0, vec![]),
            (WorkUnit::Uo1, vec!["LIVRABLE_MISSING"]),
            (WorkUnit::Uo21, vec!["LIVRABLE_MISSING"]),
            (WorkUnit::Uo22, vec![]),
        ] {
            let mut u = unit("A7250301000001", 10, uo);
            u.has_deliverable = false;
            assert_eq!(
                codes(&decide(&[u], PLENTY, BillingRules::default())[0]),
                expected,
                "{uo:?}"
            );
        }
    }

    /// Point 20: every reason is kept, the first by precedence.
    #[test]
    fn every_reason_in_precedence_order() {
        let mut u = unit("A7250301000001", 10, WorkUnit::Uo1);
        u.eligible = false;
        u.has_deliverable = false;
        u.order = OrderLink::Mismatch(order(5, WorkUnit::Uo1, 1));
        u.duplicate_reference = true;
        u.concurrent = true;
        let rules = BillingRules {
            hold_concurrent: true,
            ..Default::default()
        };
        let v = decide(&[u], PLENTY, rules);
        assert_eq!(
            codes(&v[0]),
            [
                "INELIGIBLE",
                "LIVRABLE_MISSING",
                "BC_MISMATCH",
                "BC_DUPLICATE",
                "CONCURRENT_CEP_HELD"
            ]
        );
        assert_eq!(v[0].reason(), Some(NotBillable::Ineligible));
    }

    #[test]
    fn order_links() {
        let lot8 = Lot::new(8).unwrap();
        let known = |o: &PurchaseOrderRef| o.number() == 1;
        let uo1 = WorkUnit::Uo1;
        assert_eq!(OrderLink::of(None, known, lot8, uo1), OrderLink::Unknown);
        assert_eq!(
            OrderLink::of(Some(order(8, uo1, 2)), known, lot8, uo1),
            OrderLink::Unknown
        );
        assert_eq!(
            OrderLink::of(Some(order(8, uo1, 1)), known, lot8, uo1),
            OrderLink::Known(order(8, uo1, 1))
        );
        assert_eq!(
            OrderLink::of(Some(order(8, WorkUnit::Uo21, 1)), known, lot8, uo1),
            OrderLink::Mismatch(order(8, WorkUnit::Uo21, 1))
        );
        assert_eq!(
            OrderLink::of(Some(order(5, uo1, 1)), known, lot8, uo1),
            OrderLink::Mismatch(order(5, uo1, 1))
        );
    }

    /// A reference to no known order, or none at all, is BC_UNKNOWN; the unit consumes nothing.
    #[test]
    fn unknown_order_is_not_billable() {
        let mut u = unit("A7250301000001", 10, WorkUnit::Uo21);
        u.order = OrderLink::Unknown;
        let v = decide(&[u], PLENTY, BillingRules::default());
        assert_eq!(codes(&v[0]), ["BC_UNKNOWN"]);
        assert_eq!(v[0].consumes, None);
    }

    /// Point 15: a concurrent CEP stays billable unless the configuration holds it back.
    #[test]
    fn concurrent_cep_is_only_flagged_by_default() {
        let mut u = unit("A7250301000001", 10, WorkUnit::Uo1);
        u.concurrent = true;
        assert!(decide(std::slice::from_ref(&u), PLENTY, BillingRules::default())[0].billable());
        let held = BillingRules {
            hold_concurrent: true,
            ..Default::default()
        };
        assert_eq!(
            codes(&decide(&[u], PLENTY, held)[0]),
            ["CONCURRENT_CEP_HELD"]
        );
    }

    /// Point 15: only units billable on every other ground consume the quantity, served in
    /// (closure date, dossier number) order, whatever the input order.
    #[test]
    fn orders_are_served_in_closure_order_up_to_their_quantity() {
        let mut late = unit("A7250301000009", 20, WorkUnit::Uo1);
        late.numero_dossier = "A7250301000009".into();
        let mut not_billable = unit("A7250301000001", 1, WorkUnit::Uo1);
        not_billable.has_deliverable = false;
        let units = vec![
            late,
            unit("A7250301000003", 5, WorkUnit::Uo1),
            not_billable,
            unit("A7250301000002", 5, WorkUnit::Uo1),
        ];
        let v = decide(&units, |_| 2, BillingRules::default());
        // Same day: the smaller dossier number first.
        assert!(v[3].billable() && v[1].billable());
        assert_eq!(
            codes(&v[0]),
            ["BC_EXHAUSTED"],
            "third billable unit of an order of 2"
        );
        assert_eq!(
            codes(&v[2]),
            ["LIVRABLE_MISSING"],
            "does not consume the quantity"
        );
    }

    /// Exhaustion is decided before a held concurrent CEP in the precedence order, and a held
    /// unit does not consume the quantity.
    #[test]
    fn held_units_do_not_consume() {
        let mut held = unit("A7250301000001", 1, WorkUnit::Uo1);
        held.concurrent = true;
        let rules = BillingRules {
            hold_concurrent: true,
            ..Default::default()
        };
        let v = decide(
            &[held, unit("A7250301000002", 2, WorkUnit::Uo1)],
            |_| 1,
            rules,
        );
        assert_eq!(codes(&v[0]), ["CONCURRENT_CEP_HELD"]);
        assert!(v[1].billable(), "the quantity went to the next unit");
    }
}
