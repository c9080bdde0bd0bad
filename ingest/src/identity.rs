//! The concurrent CEP (CCTP 1.2.4, feed-format point 24) needs the national person that
//! identity resolution gives. A file's lines are checked against the persons already linked
//! ([`crate::apply`]); once the receipts of a batch are processed and their persons linked
//! ([`crate::Ingestor::complete`]), their accepted UO1/UO2 fiches are checked again here, so
//! that a person seen for the first time at two operators on the same day is reported too.

use crate::anomaly::{AnomalyCode, Severity, message};
use crate::pipeline::IngestError;
use crate::report::ProcessingReport;
use crate::{Anomaly, FeedKind};
use cep_domain::deadline::UnitDates;
use cep_domain::person::{OtherDossier, concurrent_cep};
use cep_domain::{Lot, WorkUnit};
use cep_store::DbConnection;
use cep_store::models::ingest::{
    NewAnomaly, ProcessingReportRow, dossiers_of_national_persons, insert_anomalies,
    lines_with_anomaly, linked_fiches_of_receipt,
};
use cep_store::models::receipts::Receipt;
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// Another lot's UO1/UO2 dossier of the same person as the store holds it (lot, uo, engagement,
/// closure date and motif), with its effective closure as of `today`.
pub(crate) fn other_dossier(
    lot: &str,
    uo: &str,
    engagement: Option<NaiveDate>,
    date_cloture: Option<NaiveDate>,
    motif_cloture: Option<&str>,
    today: NaiveDate,
) -> Option<OtherDossier> {
    let (lot, uo, engagement) = (
        Lot::parse(lot).ok()?,
        WorkUnit::from_column_code(uo).ok()?,
        engagement?,
    );
    let closure = UnitDates::of_fiche(uo, engagement, None, date_cloture, motif_cloture)
        .effective_closure(today)
        .map(|c| c.date);
    Some(OtherDossier {
        lot,
        uo,
        engagement,
        closure,
    })
}

/// The detail of a `CONCURRENT_CEP` warning: where the other accompaniment is.
pub(crate) fn concurrent_detail(lot: &str, numero: &str) -> String {
    format!(
        "la personne a un accompagnement en cours au lot {lot} (dossier {numero}) : unité signalée pour revue de facturation"
    )
}

/// Checks the accepted fiches of `receipt` again for `CONCURRENT_CEP` now that their persons are
/// linked; a warning found is stored with the receipt's anomalies and added to `report` (and to
/// its stored copy). A line already flagged is not flagged twice. Returns the warnings added.
pub fn recheck_concurrent(
    conn: &mut DbConnection,
    receipt: &Receipt,
    report: &mut ProcessingReport,
) -> Result<usize, IngestError> {
    if report.kind.as_deref() != Some(FeedKind::Dossiers.as_str()) || report.accepted == 0 {
        return Ok(0);
    }
    let fiches = linked_fiches_of_receipt(conn, receipt.id)?;
    if fiches.is_empty() {
        return Ok(0);
    }
    let today = cep_domain::paris::date_of(receipt.received_at);
    let flagged: HashSet<i64> =
        lines_with_anomaly(conn, receipt.id, AnomalyCode::ConcurrentCep.as_str())?
            .into_iter()
            .collect();
    let nationals: Vec<String> = fiches
        .iter()
        .map(|f| f.national_person_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut elsewhere: HashMap<String, Vec<(String, String, OtherDossier)>> = HashMap::new();
    for (nat, l, numero, uo, e, c, m) in dossiers_of_national_persons(conn, &nationals)? {
        if let Some(o) = other_dossier(&l, &uo, e, c, m.as_deref(), today) {
            elsewhere.entry(nat).or_default().push((l, numero, o));
        }
    }
    let mut added = Vec::new();
    let mut seen = HashSet::new();
    for f in &fiches {
        if flagged.contains(&f.line_number) || !seen.insert(f.line_number) {
            continue;
        }
        let (Ok(lot), Ok(uo)) = (Lot::parse(&f.lot), WorkUnit::from_column_code(&f.uo)) else {
            continue;
        };
        let clash = elsewhere
            .get(&f.national_person_id)
            .into_iter()
            .flatten()
            .find(|(_, _, o)| concurrent_cep(lot, uo, f.date_engagement, o));
        if let Some((l, n, _)) = clash {
            let column = "identifiant_beneficiaire";
            added.push(Anomaly {
                line: u64::try_from(f.line_number).ok(),
                dossier: Some(f.numero_dossier.clone()),
                column: Some(column.to_owned()),
                code: AnomalyCode::ConcurrentCep,
                severity: Severity::Warning,
                message: message(
                    AnomalyCode::ConcurrentCep,
                    Some(column),
                    &concurrent_detail(l, n),
                ),
            });
        }
    }
    if added.is_empty() {
        return Ok(0);
    }
    let rows: Vec<NewAnomaly> = added
        .iter()
        .map(|a| NewAnomaly {
            receipt_id: receipt.id,
            line_number: a.line.map(|l| l as i64),
            numero_dossier: a.dossier.clone(),
            column_name: a.column.clone(),
            code: a.code.as_str().to_owned(),
            severity: a.severity.as_str().to_owned(),
            message: a.message.clone(),
        })
        .collect();
    insert_anomalies(conn, &rows)?;
    let n = added.len();
    report.warnings += n as u64;
    report.anomalies.extend(added);
    // In line order, each line's new warning after the ones it had.
    report.anomalies.sort_by_key(|a| a.line.unwrap_or(0));
    ProcessingReportRow::set_json(conn, receipt.id, &report.to_json())?;
    Receipt::set_warnings(
        conn,
        receipt.id,
        i32::try_from(report.warnings).unwrap_or(i32::MAX),
    )?;
    Ok(n)
}
