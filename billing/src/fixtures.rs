//! Test fixtures shared by the billing modules' tests.

use cep_domain::billable::{NotBillable, Verdict};
use cep_domain::ids::PurchaseOrderRef;
use cep_domain::{Closure, ClosureKind, Lot, WorkUnit};
use cep_store::models::buyer::PurchaseOrder;

pub const ORDER: &str = "2025-Lot08-UO01-01";

/// Order `2025-Lot08-UO01-01` for 2025, VAT 20 %.
pub fn order(quantity: i64, price_cents: i64) -> PurchaseOrder {
    PurchaseOrder {
        id: 1,
        reference: ORDER.into(),
        lot: "08".into(),
        uo: "01".into(),
        date_notification: "2024-12-15".parse().unwrap(),
        quantite: quantity,
        prix_unitaire_ht_cents: price_cents,
        taux_tva_bp: 2000,
        date_debut: "2025-01-01".parse().unwrap(),
        date_fin: "2025-12-31".parse().unwrap(),
        import_id: None,
        recorded_at: "2024-12-15T00:00:00".parse().unwrap(),
        superseded_at: None,
    }
}

/// A UO1 unit of lot 08 number `n`, closed voluntarily on `closed`: billable on `ORDER`, or
/// not (`LIVRABLE_MISSING`, or `BC_EXHAUSTED` when `exhausted`).
pub fn unit(n: usize, closed: &str, billable: bool, exhausted: bool) -> crate::Unit {
    let o: PurchaseOrderRef = ORDER.parse().unwrap();
    crate::Unit {
        numero_dossier: format!("A72501010000{n:02}"),
        lot: Lot::new(8).unwrap(),
        uo: WorkUnit::Uo1,
        engagement: "2025-01-02".parse().unwrap(),
        closure: Closure {
            date: closed.parse().unwrap(),
            kind: ClosureKind::Voluntary,
        },
        reference_bc: Some(format!("{ORDER}-{n:05}")),
        numero_decompte: None,
        concurrent: false,
        verdict: if billable {
            Verdict {
                reasons: vec![],
                consumes: Some(o),
            }
        } else {
            Verdict {
                reasons: vec![if exhausted {
                    NotBillable::BcExhausted
                } else {
                    NotBillable::LivrableMissing
                }],
                consumes: None,
            }
        },
    }
}
