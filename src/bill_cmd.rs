//! `cep bill`: billable units at a cut-off and the consumption of every purchase order
//! (`cep_app::billing`).

use anyhow::Result;
use cep_store::Store;
use std::path::PathBuf;

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

pub fn run(
    store: &Store,
    args: &BillArgs,
    settings: &cep_app::settings::BillingSettings,
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
    let s = cep_app::billing::bill(
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
