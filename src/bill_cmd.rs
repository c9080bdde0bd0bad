//! `cep bill`: billable units at a cut-off and the consumption of every purchase order.

use anyhow::{Context, Result};
use cep_domain::billable::BillingRules;
use cep_store::Store;
use cep_store::models::buyer::PurchaseOrder;
use chrono::NaiveDateTime;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct BillArgs {
    /// Data cut-off (RFC 3339, e.g. 2025-10-01T00:00:00+02:00); default: now.
    #[arg(long)]
    pub cutoff: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Folder for units.csv and orders.csv (created if needed).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the consumption statements of this quarter (e.g. 2025-T3) in OUT/statements/.
    #[arg(long)]
    pub quarter: Option<cep_domain::Quarter>,
    /// Also compute the quality bonus of this half-year (e.g. 2025-S2) into OUT/bonus.csv.
    #[arg(long)]
    pub half: Option<cep_domain::HalfYear>,
    /// Bill abandonments (default: not billable, spec indicators-v1).
    #[arg(long)]
    pub bill_abandonments: bool,
    /// Hold units flagged CONCURRENT_CEP back until reviewed (default: flagged only).
    #[arg(long)]
    pub hold_concurrent: bool,
}

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
    let units = cep_billing::units_at(&mut conn, cutoff, rules)?;
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
    let open_billed = if quarters.is_empty() {
        vec![]
    } else {
        cep_billing::units::billed_while_open(&mut conn, cutoff)?
    };
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

pub fn run(
    store: &Store,
    args: &BillArgs,
    settings: &crate::config::BillingSettings,
) -> Result<()> {
    let cutoff = match args.cutoff {
        Some(t) => t.naive_utc(),
        None => cep_store::models::now_utc(),
    };
    // The configuration's choices; the flags can only turn them on.
    let mut rules = settings.rules();
    rules.bill_abandonments |= args.bill_abandonments;
    rules.hold_concurrent |= args.hold_concurrent;
    let scheme = settings.scheme()?;
    let quarters: Vec<cep_domain::Quarter> = args.quarter.into_iter().collect();
    let s = bill(
        store, cutoff, rules, &scheme, &quarters, args.half, &args.out,
    )?;
    println!(
        "cut-off {} UTC: {} closed units, {} billable; {} orders; units.csv, orders.csv and not_billable.csv (by lot, quarter and reason) in {}",
        s.cutoff,
        s.units,
        s.billable,
        s.orders,
        args.out.display()
    );
    if let Some(q) = args.quarter {
        println!(
            "  {q}: {} statement(s), {} € TTC in all, in {}; {} reconciliation finding(s) in reconciliation.csv",
            s.statements,
            cep_billing::export::euros(s.amount_ttc_cents),
            args.out.join("statements").display(),
            s.findings
        );
    }
    if let (Some(h), Some(total)) = (args.half, s.bonus_ht_cents) {
        println!(
            "  {h}: quality bonuses {} € HT in all (scheme {}), in bonus.csv",
            cep_billing::export::euros(total),
            scheme.version
        );
    }
    for number in &s.changed_since_issue {
        println!(
            "  warning: statement {number} was issued for this cut-off with other values (an order changed since); the issued one is kept in the database, the files show today's computation"
        );
    }
    for (order, alert) in &s.alerts {
        let new = s
            .new_alerts
            .iter()
            .any(|(o, l)| o == order && *l == i32::from(*alert));
        println!(
            "  alert: order {order} at {alert} % of its quantity{}",
            if new { " (new, recorded)" } else { "" }
        );
    }
    Ok(())
}
