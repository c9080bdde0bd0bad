//! Reconciliation of the operators' quarterly statements (*décomptes*, the `numero_decompte`
//! carried on the fiches) with the units found billable at the cut-off.

use crate::units::Unit;
use cep_domain::ids::StatementNumber;
use cep_domain::{Quarter, YearMonth};
use std::collections::HashMap;

/// A difference between what an operator billed and what is billable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Finding {
    /// Billed by the operator, not billable here (the unit's first reason says why).
    BilledNotBillable,
    /// Billable here, in none of the operator's statements.
    BillableNotBilled,
    /// Billed on a statement of another lot or another quarter than the unit's closure.
    BilledInAnotherPeriod,
    /// The same consumption reference billed by two dossiers.
    BilledTwice,
    /// `numero_decompte` is not of the form `AAAA-Lotww-Tq-nn`.
    MalformedStatementNumber,
    /// Billed by the operator while the unit is not closed at the cut-off.
    BilledNotClosed,
}

impl Finding {
    pub fn code(self) -> &'static str {
        match self {
            Finding::BilledNotBillable => "FACTURE_NON_FACTURABLE",
            Finding::BillableNotBilled => "FACTURABLE_NON_FACTURE",
            Finding::BilledInAnotherPeriod => "AUTRE_PERIODE",
            Finding::BilledTwice => "FACTURE_DEUX_FOIS",
            Finding::MalformedStatementNumber => "DECOMPTE_INVALIDE",
            Finding::BilledNotClosed => "FACTURE_NON_CLOTURE",
        }
    }
}

/// One finding on one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub numero_dossier: String,
    pub numero_decompte: Option<String>,
    pub finding: Finding,
    /// For `BilledNotBillable`: the unit's first reason (`INELIGIBLE`, …).
    pub detail: String,
}

/// Findings on the units closed in `quarter` (and on units billed on one of that quarter's
/// statements), in dossier order, then on the open dossiers billed on one of that quarter's
/// statements (`open_billed`: `(numero_dossier, numero_decompte)`, from
/// [`crate::units::billed_while_open`]).
pub fn reconcile(
    units: &[Unit],
    open_billed: &[(String, String)],
    quarter: Quarter,
) -> Vec<Discrepancy> {
    let in_quarter = |u: &Unit| quarter.contains(u.closure.date);
    let statement = |u: &Unit| {
        u.numero_decompte
            .as_deref()
            .map(|n| n.parse::<StatementNumber>())
    };
    let on_this_quarter = |u: &Unit| matches!(statement(u), Some(Ok(s)) if i32::from(s.year()) == quarter.year() && u32::from(s.quarter()) == quarter.quarter());
    let mut billers: HashMap<&str, usize> = HashMap::new();
    for u in units {
        if let (Some(r), Some(_)) = (u.reference_bc.as_deref(), u.numero_decompte.as_deref()) {
            *billers.entry(r).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    let this_quarter = |n: &str| matches!(n.parse::<StatementNumber>(), Ok(s) if i32::from(s.year()) == quarter.year() && u32::from(s.quarter()) == quarter.quarter());
    for u in units.iter().filter(|u| in_quarter(u) || on_this_quarter(u)) {
        let mut add = |finding: Finding, detail: String| {
            out.push(Discrepancy {
                numero_dossier: u.numero_dossier.clone(),
                numero_decompte: u.numero_decompte.clone(),
                finding,
                detail,
            })
        };
        match statement(u) {
            None => {
                if u.verdict.billable() {
                    add(Finding::BillableNotBilled, String::new());
                }
            }
            Some(Err(_)) => add(Finding::MalformedStatementNumber, String::new()),
            Some(Ok(s)) => {
                if !u.verdict.billable() {
                    let reason = u.verdict.reason().map(|r| r.code()).unwrap_or("");
                    add(Finding::BilledNotBillable, reason.to_owned());
                }
                let q = YearMonth::of(u.closure.date).quarter();
                let same_period = s.lot() == u.lot
                    && i32::from(s.year()) == q.year()
                    && u32::from(s.quarter()) == q.quarter();
                if !same_period {
                    add(
                        Finding::BilledInAnotherPeriod,
                        format!("clôture le {}", u.closure.date),
                    );
                }
                if u.reference_bc.as_deref().is_some_and(|r| billers[r] > 1) {
                    add(
                        Finding::BilledTwice,
                        u.reference_bc.clone().unwrap_or_default(),
                    );
                }
            }
        }
    }
    for (numero, decompte) in open_billed.iter().filter(|(_, d)| this_quarter(d)) {
        out.push(Discrepancy {
            numero_dossier: numero.clone(),
            numero_decompte: Some(decompte.clone()),
            finding: Finding::BilledNotClosed,
            detail: String::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(n: usize, closed: &str, decompte: Option<&str>, billable: bool) -> Unit {
        let mut u = crate::fixtures::unit(n, closed, billable, false);
        u.numero_decompte = decompte.map(Into::into);
        u
    }

    fn findings(units: &[Unit]) -> Vec<(String, &'static str, String)> {
        let open = vec![
            ("A7250101000008".to_owned(), "2025-Lot08-T1-01".to_owned()),
            ("A7250101000009".to_owned(), "2025-Lot08-T2-01".to_owned()),
        ];
        reconcile(units, &open, "2025-T1".parse().unwrap())
            .into_iter()
            .map(|d| (d.numero_dossier, d.finding.code(), d.detail))
            .collect()
    }

    #[test]
    fn billed_and_billable_agree() {
        let f = findings(&[unit(1, "2025-02-01", Some("2025-Lot08-T1-01"), true)]);
        // Only the open dossier billed on a Q1 statement is a finding.
        assert_eq!(
            f,
            vec![(
                "A7250101000008".to_owned(),
                "FACTURE_NON_CLOTURE",
                String::new()
            )]
        );
    }

    #[test]
    fn each_kind_of_finding() {
        let mut twice = unit(4, "2025-03-01", Some("2025-Lot08-T1-01"), true);
        let mut again = unit(5, "2025-03-02", Some("2025-Lot08-T1-01"), false);
        again.reference_bc = twice.reference_bc.clone();
        twice.numero_dossier = "A7250101000004".into();
        let units = vec![
            unit(1, "2025-02-01", Some("2025-Lot08-T1-01"), false),
            unit(2, "2025-02-01", None, true),
            unit(3, "2025-04-02", Some("2025-Lot08-T1-01"), true),
            twice,
            again,
            unit(6, "2025-02-01", Some("T1 2025"), true),
            unit(7, "2025-02-01", Some("2025-Lot05-T1-01"), true),
        ];
        let f = findings(&units);
        let has = |n: &str, code: &str| f.iter().any(|(d, c, _)| d.ends_with(n) && *c == code);
        assert!(has("01", "FACTURE_NON_FACTURABLE"), "{f:?}");
        assert!(
            f.iter()
                .any(|(_, c, d)| *c == "FACTURE_NON_FACTURABLE" && d == "LIVRABLE_MISSING")
        );
        assert!(has("02", "FACTURABLE_NON_FACTURE"), "{f:?}");
        assert!(
            has("03", "AUTRE_PERIODE"),
            "closed in Q2, billed on a Q1 statement: {f:?}"
        );
        assert!(
            has("04", "FACTURE_DEUX_FOIS") && has("05", "FACTURE_DEUX_FOIS"),
            "{f:?}"
        );
        assert!(has("06", "DECOMPTE_INVALIDE"), "{f:?}");
        assert!(has("07", "AUTRE_PERIODE"), "another lot's statement: {f:?}");
        assert!(has("08", "FACTURE_NON_CLOTURE"), "{f:?}");
        assert!(
            !f.iter().any(|(d, _, _)| d.ends_with("09")),
            "a Q2 statement is Q2's business"
        );
    }
}
