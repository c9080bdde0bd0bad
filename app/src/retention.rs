//! `cep purge` (and the scheduler's daily purge): retention limits applied (RGPD). What is
//! erased is described in `cep_store::models::retention`; the purge is written to the audit log,
//! whose chain stays verifiable.

use crate::settings::Settings;
use crate::{Result, bail};
use cep_store::Store;
use cep_store::models::access::NewAuditEntry;
use chrono::{Months, NaiveDateTime};

/// Applies the retention limits as of `now`; returns a one-line summary.
pub fn purge(store: &Store, settings: &Settings, now: NaiveDateTime) -> Result<String> {
    let r = &settings.retention;
    let before = |months: u32| {
        now.checked_sub_months(Months::new(months))
            .unwrap_or(NaiveDateTime::MIN)
    };
    let persons_before = before(r.personal_data_months);
    let files_before = before(r.raw_files_months);
    let mut conn = store.conn()?;
    let p = cep_store::models::retention::purge(&mut conn, persons_before, files_before, now)?;
    let mut deleted = 0;
    for f in &p.files {
        match std::fs::remove_file(f) {
            Ok(()) => deleted += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("deleting {f}: {e}"),
        }
    }
    let summary = format!(
        "identities of {} record(s) erased (no activity since {}), {} linking key(s) deleted; {} receipt(s) before {} purged: {} raw file(s) deleted, {} quarantined line(s) and {} report(s) erased",
        p.identity_records,
        persons_before.format("%Y-%m-%d"),
        p.link_keys,
        p.receipts,
        files_before.format("%Y-%m-%d"),
        deleted,
        p.quarantined_lines,
        p.reports
    );
    NewAuditEntry {
        at: now,
        actor: "cep".into(),
        role: "system".into(),
        action: "retention_purge".into(),
        lot: None,
        target: None,
        detail: summary.clone(),
    }
    .append(&mut conn)?;
    Ok(summary)
}
