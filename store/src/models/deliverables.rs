//! Deliverables (livrables, feed spec point 34): the signed files of UO1 and UO2.1 deposited
//! by the operators, and the ones their fiches declare that never arrived.

use crate::schema::{deliverables, dossiers, fiches};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A deliverable as it was received and archived.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deliverables)]
pub struct Deliverable {
    pub id: i64,
    pub lot: String,
    pub numero_dossier: String,
    pub sha256: String,
    /// `pdf` or `odt`.
    pub format: String,
    pub file_name: String,
    pub size_bytes: i64,
    /// `inbox` or `api`.
    pub channel: String,
    pub received_at: NaiveDateTime,
    pub archive_path: String,
}

/// A deliverable about to be recorded (after its file is archived).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deliverables)]
pub struct NewDeliverable<'a> {
    pub lot: &'a str,
    pub numero_dossier: &'a str,
    pub sha256: &'a str,
    pub format: &'a str,
    pub file_name: &'a str,
    pub size_bytes: i64,
    pub channel: &'a str,
    pub received_at: NaiveDateTime,
    pub archive_path: &'a str,
}

impl NewDeliverable<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, deliverables::table, deliverables::id, self)
            .map_err(StoreError::query("recording a deliverable"))
    }
}

/// A deliverable that a dossier's current fiche declares (`livrable_sha256`) and that no file
/// of its lot carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwaitedDeliverable {
    pub lot: String,
    pub numero_dossier: String,
    pub uo: String,
    pub sha256: String,
    pub date_cloture: Option<NaiveDate>,
    /// When the first fiche of the dossier declaring this hash was received.
    pub declared_at: NaiveDateTime,
}

impl Deliverable {
    pub fn get(conn: &mut DbConnection, id: i64) -> Result<Option<Self>> {
        deliverables::table
            .find(id)
            .select(Deliverable::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a deliverable"))
    }

    /// The file of `lot` with this content, if one was received.
    pub fn by_content(conn: &mut DbConnection, lot: &str, sha256: &str) -> Result<Option<Self>> {
        deliverables::table
            .filter(deliverables::lot.eq(lot))
            .filter(deliverables::sha256.eq(sha256))
            .select(Deliverable::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a deliverable"))
    }

    /// The files received for one dossier of a lot, newest first.
    pub fn of_dossier(conn: &mut DbConnection, lot: &str, numero: &str) -> Result<Vec<Self>> {
        deliverables::table
            .filter(deliverables::lot.eq(lot))
            .filter(deliverables::numero_dossier.eq(numero))
            .order((deliverables::received_at.desc(), deliverables::id.desc()))
            .select(Deliverable::as_select())
            .load(conn)
            .map_err(StoreError::query("reading a dossier's deliverables"))
    }

    /// Every file received (of one lot), newest first.
    pub fn list(conn: &mut DbConnection, lot: Option<&str>) -> Result<Vec<Self>> {
        let mut q = deliverables::table
            .order((deliverables::received_at.desc(), deliverables::id.desc()))
            .select(Deliverable::as_select())
            .into_boxed();
        if let Some(lot) = lot {
            q = q.filter(deliverables::lot.eq(lot.to_owned()));
        }
        q.load(conn)
            .map_err(StoreError::query("listing deliverables"))
    }
}

/// The received deliverables (of one lot) that the current fiche of their dossier declares.
pub fn matched_ids(
    conn: &mut DbConnection,
    lot: Option<&str>,
) -> Result<std::collections::HashSet<i64>> {
    let mut q = deliverables::table
        .inner_join(
            dossiers::table.on(dossiers::lot
                .eq(deliverables::lot)
                .and(dossiers::numero_dossier.eq(deliverables::numero_dossier))),
        )
        .inner_join(
            fiches::table.on(fiches::dossier_id
                .eq(dossiers::id)
                .and(dossiers::current_horodatage_utc.eq(fiches::horodatage_utc.nullable()))),
        )
        .filter(fiches::livrable_sha256.eq(deliverables::sha256.nullable()))
        .select(deliverables::id)
        .into_boxed();
    if let Some(lot) = lot {
        q = q.filter(deliverables::lot.eq(lot.to_owned()));
    }
    Ok(q.load::<i64>(conn)
        .map_err(StoreError::query("matching deliverables with their fiches"))?
        .into_iter()
        .collect())
}

/// The deliverable hash that the current fiche of `numero` (a dossier of `lot`) declares:
/// `None` when the lot has no such dossier, `Some(None)` when its fiche declares none.
pub fn declared_hash(
    conn: &mut DbConnection,
    lot: &str,
    numero: &str,
) -> Result<Option<Option<String>>> {
    fiches::table
        .inner_join(dossiers::table)
        .filter(dossiers::lot.eq(lot))
        .filter(dossiers::numero_dossier.eq(numero))
        .filter(dossiers::current_horodatage_utc.eq(fiches::horodatage_utc.nullable()))
        .order(fiches::id.desc())
        .select(fiches::livrable_sha256)
        .first::<Option<String>>(conn)
        .optional()
        .map_err(StoreError::query(
            "reading the deliverable a fiche declares",
        ))
}

/// Dossier id, lot, number, UO, declared hash, closure.
type AwaitedRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<NaiveDate>,
);

/// UO1 and UO2.1 dossiers whose current fiche declares a deliverable that was never received
/// (of one lot), by lot and dossier number.
pub fn awaited(conn: &mut DbConnection, lot: Option<&str>) -> Result<Vec<AwaitedDeliverable>> {
    let mut q = fiches::table
        .inner_join(dossiers::table)
        .filter(dossiers::current_horodatage_utc.eq(fiches::horodatage_utc.nullable()))
        .filter(dossiers::uo.eq_any([
            cep_domain::WorkUnit::Uo1.column_code(),
            cep_domain::WorkUnit::Uo21.column_code(),
        ]))
        .filter(fiches::livrable_sha256.is_not_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            deliverables::table
                .filter(deliverables::lot.eq(dossiers::lot))
                .filter(deliverables::sha256.nullable().eq(fiches::livrable_sha256)),
        )))
        .select((
            dossiers::id,
            dossiers::lot,
            dossiers::numero_dossier,
            dossiers::uo,
            fiches::livrable_sha256,
            dossiers::date_cloture,
        ))
        .into_boxed();
    if let Some(lot) = lot {
        q = q.filter(dossiers::lot.eq(lot.to_owned()));
    }
    let rows: Vec<AwaitedRow> = q
        .load(conn)
        .map_err(StoreError::query("reading the awaited deliverables"))?;
    // When each hash was first declared for its dossier: the fiches of these dossiers that
    // declare a hash, read once (in chunks), the earliest reception kept per (dossier, hash).
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut first: std::collections::HashMap<(i64, String), NaiveDateTime> = Default::default();
    for chunk in ids.chunks(1000) {
        let declared: Vec<(i64, Option<String>, NaiveDateTime)> = fiches::table
            .filter(fiches::dossier_id.eq_any(chunk))
            .filter(fiches::livrable_sha256.is_not_null())
            .select((
                fiches::dossier_id,
                fiches::livrable_sha256,
                fiches::received_at,
            ))
            .load(conn)
            .map_err(StoreError::query("reading when deliverables were declared"))?;
        for (id, sha, at) in declared {
            if let Some(sha) = sha {
                let e = first.entry((id, sha)).or_insert(at);
                *e = (*e).min(at);
            }
        }
    }
    let mut out: Vec<AwaitedDeliverable> = Vec::with_capacity(rows.len());
    let mut seen = std::collections::HashSet::new();
    for (id, lot, numero, uo, sha, cloture) in rows {
        let Some(sha) = sha else { continue };
        if !seen.insert(id) {
            continue;
        }
        let declared_at = first.get(&(id, sha.clone())).copied().unwrap_or_default();
        out.push(AwaitedDeliverable {
            lot,
            numero_dossier: numero,
            uo,
            sha256: sha,
            date_cloture: cloture,
            declared_at,
        });
    }
    out.sort_by(|a, b| (&a.lot, &a.numero_dossier).cmp(&(&b.lot, &b.numero_dossier)));
    Ok(out)
}
