//! Retention (RGPD): personal data of persons without activity since a limit, and raw files
//! received before a limit, are purged; aggregates, pseudonymous ids and the audit log stay.
//!
//! What a purge erases, for an operator person whose latest fiche was received before the
//! persons' limit: the names, sex, birth date, NIR, street address, commune, e-mail and phone
//! of its identity records (the postal code stays: it chooses the Alsace-Moselle calendar of
//! indicator 8.4 and identifies no one alone), and its linking keys. For receipts before the
//! files' limit: the archived raw file (once no later receipt shares its content), the raw text
//! of its quarantined lines, and the anomaly messages of its processing report (they may quote
//! a value).

use crate::schema::{quarantined_lines, receipts};
use crate::{DbConnection, Result, StoreError};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Timestamp;

/// What a purge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub identity_records: usize,
    pub link_keys: usize,
    pub receipts: usize,
    pub quarantined_lines: usize,
    pub reports: usize,
    /// Archive paths whose files the caller deletes (relative to the archive folder).
    pub files: Vec<String>,
}

fn execute(conn: &mut DbConnection, pg: &str, sqlite: &str, t: NaiveDateTime) -> Result<usize> {
    let r = match conn {
        DbConnection::Pg(c) => diesel::sql_query(pg).bind::<Timestamp, _>(t).execute(c),
        DbConnection::Sqlite(c) => diesel::sql_query(sqlite).bind::<Timestamp, _>(t).execute(c),
    };
    r.map_err(StoreError::query("purging personal data"))
}

/// Purges, in one transaction (see the module's description). `now` is recorded as the files'
/// purge time.
pub fn purge(
    conn: &mut DbConnection,
    persons_before: NaiveDateTime,
    files_before: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<Purged> {
    conn.transaction(|c| {
        let inactive = |p: &str| {
            format!(
                "SELECT d.operator_person_id FROM dossiers d JOIN fiches f ON f.dossier_id = d.id \
                 GROUP BY d.operator_person_id HAVING max(f.received_at) < {p}"
            )
        };
        let identity = |p: &str| {
            format!(
                "UPDATE identity_records SET nom = NULL, nom_usage = NULL, prenom = NULL, \
                 sexe = NULL, date_naissance = NULL, nir = NULL, adresse_numero = NULL, \
                 adresse_type_voie = NULL, adresse_voie = NULL, adresse_commune = NULL, \
                 email = NULL, telephone = NULL \
                 WHERE operator_person_id IN ({}) AND (nom IS NOT NULL OR prenom IS NOT NULL \
                 OR nir IS NOT NULL OR date_naissance IS NOT NULL OR email IS NOT NULL \
                 OR telephone IS NOT NULL OR adresse_voie IS NOT NULL OR nom_usage IS NOT NULL \
                 OR sexe IS NOT NULL OR adresse_commune IS NOT NULL OR adresse_numero IS NOT NULL \
                 OR adresse_type_voie IS NOT NULL)",
                inactive(p)
            )
        };
        let mut out = Purged {
            identity_records: execute(c, &identity("$1"), &identity("?"), persons_before)?,
            ..Purged::default()
        };
        let keys = |p: &str| {
            format!(
                "DELETE FROM link_keys WHERE operator_person_id IN ({})",
                inactive(p)
            )
        };
        out.link_keys = execute(c, &keys("$1"), &keys("?"), persons_before)?;

        // Raw files: receipts before the limit, not purged yet.
        let old: Vec<(i64, String, String)> = receipts::table
            .filter(receipts::received_at.lt(files_before))
            .filter(receipts::purged_at.is_null())
            .select((receipts::id, receipts::sha256, receipts::archive_path))
            .load(c)
            .map_err(StoreError::query("reading old receipts"))?;
        for (id, sha, path) in &old {
            let shared_later: i64 = receipts::table
                .filter(receipts::sha256.eq(sha))
                .filter(receipts::received_at.ge(files_before))
                .count()
                .get_result(c)
                .map_err(StoreError::query("reading receipts"))?;
            if shared_later == 0 && !out.files.contains(path) {
                out.files.push(path.clone());
            }
            out.quarantined_lines += diesel::update(
                quarantined_lines::table
                    .filter(quarantined_lines::receipt_id.eq(id))
                    .filter(quarantined_lines::raw.ne("")),
            )
            .set(quarantined_lines::raw.eq(""))
            .execute(c)
            .map_err(StoreError::query("erasing quarantined lines"))?;
            if let Some(report) = crate::models::ingest::ProcessingReportRow::of_receipt(c, *id)? {
                let mut json: serde_json::Value =
                    serde_json::from_str(&report.report_json).unwrap_or(serde_json::Value::Null);
                if let Some(list) = json["anomalies"].as_array_mut() {
                    for a in list {
                        a["message"] = serde_json::Value::String("[effacé (conservation)]".into());
                    }
                    crate::models::ingest::ProcessingReportRow::set_json(
                        c,
                        *id,
                        &json.to_string(),
                    )?;
                    out.reports += 1;
                }
            }
            diesel::update(receipts::table.filter(receipts::id.eq(id)))
                .set(receipts::purged_at.eq(Some(now)))
                .execute(c)
                .map_err(StoreError::query("marking a receipt purged"))?;
            out.receipts += 1;
        }
        Ok(out)
    })
}
