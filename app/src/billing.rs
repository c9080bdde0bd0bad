//! A billing pass at a cut-off (`cep bill`, the quarterly job, the demo): every closed unit
//! with its verdict, the consumption of every purchase order and its alerts, the statements of
//! the quarters asked (issued once per number and cut-off), the reconciliation with the
//! operators' statement numbers, the half-year's quality bonus; all written as files.

use crate::{Context, Result};
use cep_domain::billable::BillingRules;
use cep_store::Store;
use cep_store::models::buyer::PurchaseOrder;
use chrono::NaiveDateTime;
use std::path::Path;

/// What a billing pass found.
#[derive(Debug)]
pub struct BillSummary {
    pub cutoff: NaiveDateTime,
    pub units: usize,
    pub billable: usize,
    pub orders: usize,
    pub alerts: Vec<(String, u8)>,
    /// Statements already issued for the same cut-off whose values differ now (orders amended
    /// since): the issued version is kept in the database.
    pub changed_since_issue: Vec<String>,
    /// Alerts recorded for the first time by this pass (order, level).
    pub new_alerts: Vec<(String, i32)>,
    pub statements: usize,
    pub amount_ttc_cents: i64,
    /// Reconciliation findings against the operators' statement numbers.
    pub findings: usize,
    /// Quality bonuses of the half-year, all lots, when asked.
    pub bonus_ht_cents: Option<i64>,
}

pub fn bill(
    store: &Store,
    cutoff: NaiveDateTime,
    rules: BillingRules,
    scheme: &cep_billing::bonus::BonusScheme,
    quarters: &[cep_domain::Quarter],
    half: Option<cep_domain::HalfYear>,
    out: &Path,
) -> Result<BillSummary> {
    let mut conn = store.conn()?;
    let asof = cep_billing::AsOf::load(&mut conn, cutoff, rules)?;
    let units = asof.units();
    let orders = PurchaseOrder::all_current(&mut conn)?;
    let per_order = cep_billing::consumption(&orders, &units, cep_domain::paris::date_of(cutoff));
    let new_alerts = cep_billing::record_alerts(&mut conn, &per_order, cutoff)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    cep_billing::export::write_units(&out.join("units.csv"), &units)
        .with_context(|| format!("writing {}", out.join("units.csv").display()))?;
    cep_billing::export::write_orders(&out.join("orders.csv"), &per_order)
        .with_context(|| format!("writing {}", out.join("orders.csv").display()))?;
    cep_billing::export::write_not_billable(&out.join("not_billable.csv"), &units)
        .with_context(|| format!("writing {}", out.join("not_billable.csv").display()))?;
    let mut statements = Vec::new();
    let mut findings = Vec::new();
    let open_billed = asof.billed_while_open();
    for &q in quarters {
        statements.extend(cep_billing::statements(&orders, &units, q, cutoff));
        findings.extend(cep_billing::reconcile::reconcile(&units, &open_billed, q));
    }
    // Issued statements are stored; one issued before for the same number and cut-off keeps
    // its values (indicators-v1 point 17).
    let mut changed_since_issue = Vec::new();
    for st in &statements {
        let body = cep_billing::export::statement_json(st).to_string();
        let issued = cep_store::models::buyer::StoredStatement::issue(
            &mut conn,
            &cep_store::models::buyer::StoredStatement {
                number: st.number.clone(),
                cutoff,
                body_json: body.clone(),
                created_at: cep_store::models::now_utc(),
            },
        )?;
        if issued.body_json != body {
            changed_since_issue.push(st.number.clone());
        }
    }
    if !quarters.is_empty() {
        let dir = out.join("statements");
        cep_billing::export::write_statements(&dir, &statements)
            .with_context(|| format!("writing statements in {}", dir.display()))?;
        let path = out.join("reconciliation.csv");
        cep_billing::export::write_reconciliation(&path, &findings)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut bonus_ht_cents = None;
    if let Some(h) = half {
        let bonuses = cep_billing::bonus::of_half(&mut conn, scheme, h, &units, &orders)?;
        let path = out.join("bonus.csv");
        cep_billing::export::write_bonuses(&path, &bonuses)
            .with_context(|| format!("writing {}", path.display()))?;
        bonus_ht_cents = Some(bonuses.iter().map(|b| b.bonus_ht_cents).sum());
    }
    Ok(BillSummary {
        changed_since_issue,
        new_alerts: new_alerts
            .iter()
            .map(|a| (a.order_reference.clone(), a.level))
            .collect(),
        bonus_ht_cents,
        findings: findings.len(),
        statements: statements.len(),
        amount_ttc_cents: statements.iter().map(|s| s.amount_ttc_cents).sum(),
        cutoff,
        units: units.len(),
        billable: units.iter().filter(|u| u.verdict.billable()).count(),
        orders: per_order.len(),
        alerts: per_order
            .iter()
            .filter_map(|o| o.alert.map(|a| (o.reference.clone(), a)))
            .collect(),
    })
}
