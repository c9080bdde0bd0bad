//! The bulk reads and writes of ingestion: one batch of lines at a time, inside the file's
//! transaction. Multi-row statements differ between the backends (PostgreSQL: multi-row
//! `INSERT … RETURNING` and binary `COPY`; SQLite: multi-row inserts where no id is needed
//! back, prepared single-row `INSERT … RETURNING` where one is), so each is written here once
//! per backend and nowhere else.

use crate::models::dossiers::{NewFiche, NewIdentityRecord};
use crate::schema::{
    anomalies, consumption_refs, dossiers, fiches, identity_records, operator_persons,
    processing_reports, purchase_orders, quarantined_lines,
};
use crate::{DbConnection, Result, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// Rows of an `IN (…)` list per statement (SQLite's bind limit is far above this).
const CHUNK: usize = 900;

/// Inserts `$rows` into `$table` on SQLite, [`SQLITE_ROWS`] rows per statement, the rest one by
/// one. Every statement has one of two fixed shapes, so diesel prepares each once per connection
/// and reuses it: a multi-row insert built from a slice of any length is prepared again at each
/// call, and parsing those statements was about a tenth of an ingestion profile (issue 4).
macro_rules! sqlite_insert_rows {
    ($conn:expr, $table:path, $rows:expr) => {{
        let mut chunks = $rows.chunks_exact(SQLITE_ROWS);
        (&mut chunks)
            .try_for_each(|chunk| {
                let full: &[_; SQLITE_ROWS] =
                    chunk.try_into().expect("chunks_exact gives full chunks");
                diesel::insert_into($table)
                    .values(full)
                    .execute($conn)
                    .map(drop)
            })
            .and_then(|()| {
                chunks.remainder().iter().try_for_each(|row| {
                    diesel::insert_into($table)
                        .values(row)
                        .execute($conn)
                        .map(drop)
                })
            })
    }};
}

/// Rows per multi-row insert on SQLite: within SQLite's 32,766 bound values for the widest row
/// (a fiche, 47 columns).
const SQLITE_ROWS: usize = 64;

/// What the checks need of a stored dossier.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct DossierSummary {
    pub id: i64,
    pub numero_dossier: String,
    pub lot: String,
    pub uo: String,
    pub region_lot: String,
    pub operator_person_id: i64,
    pub current_horodatage_utc: Option<NaiveDateTime>,
    pub date_engagement: Option<NaiveDate>,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub ever_eligible: bool,
    pub identifiant_beneficiaire: String,
    pub national_person_id: Option<String>,
}

/// The stored dossiers among `numeros`.
pub fn dossiers_by_numero(
    conn: &mut DbConnection,
    numeros: &[String],
) -> Result<Vec<DossierSummary>> {
    let mut out = Vec::new();
    for chunk in numeros.chunks(CHUNK) {
        let rows = dossiers::table
            .inner_join(operator_persons::table)
            .filter(dossiers::numero_dossier.eq_any(chunk))
            .select((
                dossiers::id,
                dossiers::numero_dossier,
                dossiers::lot,
                dossiers::uo,
                dossiers::region_lot,
                dossiers::operator_person_id,
                dossiers::current_horodatage_utc,
                dossiers::date_engagement,
                dossiers::date_cloture,
                dossiers::motif_cloture,
                dossiers::ever_eligible,
                operator_persons::identifiant_beneficiaire,
                operator_persons::national_person_id,
            ))
            .load::<DossierSummary>(conn)
            .map_err(StoreError::query("reading dossiers of a batch"))?;
        out.extend(rows);
    }
    Ok(out)
}

/// Every stored fiche instant of these dossiers: (dossier id, horodatage UTC, content hash).
pub fn fiche_instants(
    conn: &mut DbConnection,
    dossier_ids: &[i64],
) -> Result<Vec<(i64, NaiveDateTime, String)>> {
    let mut out = Vec::new();
    for chunk in dossier_ids.chunks(CHUNK) {
        out.extend(
            fiches::table
                .filter(fiches::dossier_id.eq_any(chunk))
                .select((
                    fiches::dossier_id,
                    fiches::horodatage_utc,
                    fiches::content_hash,
                ))
                .load::<(i64, NaiveDateTime, String)>(conn)
                .map_err(StoreError::query("reading fiche instants of a batch"))?,
        );
    }
    Ok(out)
}

/// Operator persons of a lot among `identifiants`: (identifiant, id, national id).
pub fn persons_of_lot(
    conn: &mut DbConnection,
    lot: &str,
    identifiants: &[String],
) -> Result<Vec<(String, i64, Option<String>)>> {
    let mut out = Vec::new();
    for chunk in identifiants.chunks(CHUNK) {
        out.extend(
            operator_persons::table
                .filter(operator_persons::lot.eq(lot))
                .filter(operator_persons::identifiant_beneficiaire.eq_any(chunk))
                .select((
                    operator_persons::identifiant_beneficiaire,
                    operator_persons::id,
                    operator_persons::national_person_id,
                ))
                .load(conn)
                .map_err(StoreError::query("reading operator persons of a batch"))?,
        );
    }
    Ok(out)
}

/// A dossier of an operator person: (person id, numero, uo, engagement).
pub type PersonDossier = (i64, String, String, Option<NaiveDate>);

/// Dossiers of these operator persons.
pub fn dossiers_of_persons(
    conn: &mut DbConnection,
    person_ids: &[i64],
) -> Result<Vec<PersonDossier>> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(CHUNK) {
        out.extend(
            dossiers::table
                .filter(dossiers::operator_person_id.eq_any(chunk))
                .select((
                    dossiers::operator_person_id,
                    dossiers::numero_dossier,
                    dossiers::uo,
                    dossiers::date_engagement,
                ))
                .load(conn)
                .map_err(StoreError::query("reading the dossiers of persons"))?,
        );
    }
    Ok(out)
}

/// A fiche of a receipt on a UO1/UO2 dossier whose operator person has a national id, with
/// the identity it was received with: what the concurrent CEP is checked on again once persons
/// are linked (feed-format point 24).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LinkedFiche {
    pub line_number: i64,
    pub numero_dossier: String,
    pub lot: String,
    pub uo: String,
    pub date_engagement: NaiveDate,
    pub national_person_id: String,
}

/// The fiches of a receipt on UO1/UO2 dossiers whose person has a national id, in line order.
pub fn linked_fiches_of_receipt(
    conn: &mut DbConnection,
    receipt_id: i64,
) -> Result<Vec<LinkedFiche>> {
    fiches::table
        .inner_join(dossiers::table.inner_join(operator_persons::table))
        .filter(fiches::receipt_id.eq(receipt_id))
        .filter(dossiers::uo.ne("00"))
        .filter(operator_persons::national_person_id.is_not_null())
        .order(fiches::line_number)
        .select((
            fiches::line_number,
            dossiers::numero_dossier,
            dossiers::lot,
            dossiers::uo,
            fiches::date_engagement,
            operator_persons::national_person_id.assume_not_null(),
        ))
        .load(conn)
        .map_err(StoreError::query("reading the linked fiches of a receipt"))
}

/// The lines of a receipt that already carry an anomaly of this code.
pub fn lines_with_anomaly(
    conn: &mut DbConnection,
    receipt_id: i64,
    code: &str,
) -> Result<Vec<i64>> {
    anomalies::table
        .filter(anomalies::receipt_id.eq(receipt_id))
        .filter(anomalies::code.eq(code))
        .filter(anomalies::line_number.is_not_null())
        .select(anomalies::line_number.assume_not_null())
        .load(conn)
        .map_err(StoreError::query("reading a receipt's anomalies"))
}

/// UO1/UO2 dossiers of other lots whose person has one of these national ids:
/// (national id, lot, numero, uo, engagement, closure date, closure motif).
#[allow(clippy::type_complexity)]
pub fn dossiers_of_national_persons(
    conn: &mut DbConnection,
    national_ids: &[String],
) -> Result<
    Vec<(
        String,
        String,
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<String>,
    )>,
> {
    let mut out = Vec::new();
    for chunk in national_ids.chunks(CHUNK) {
        let rows = dossiers::table
            .inner_join(operator_persons::table)
            .filter(operator_persons::national_person_id.eq_any(chunk))
            .filter(dossiers::uo.ne("00"))
            .select((
                operator_persons::national_person_id.assume_not_null(),
                dossiers::lot,
                dossiers::numero_dossier,
                dossiers::uo,
                dossiers::date_engagement,
                dossiers::date_cloture,
                dossiers::motif_cloture,
            ))
            .load(conn)
            .map_err(StoreError::query(
                "reading the dossiers of national persons",
            ))?;
        out.extend(rows);
    }
    Ok(out)
}

/// Owners of consumption references: (reference, owner's dossier number).
pub fn reference_owners(
    conn: &mut DbConnection,
    references: &[String],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in references.chunks(CHUNK) {
        out.extend(
            consumption_refs::table
                .inner_join(dossiers::table)
                .filter(consumption_refs::reference.eq_any(chunk))
                .select((consumption_refs::reference, dossiers::numero_dossier))
                .load(conn)
                .map_err(StoreError::query("reading consumption reference owners"))?,
        );
    }
    Ok(out)
}

/// Dossier numbers among `numeros` that have a quarantined line not yet superseded.
///
/// On PostgreSQL the numbers are joined as a set (`unnest`) rather than matched with
/// `= ANY($1)`: the table stays small for a long time, so the cached generic plan scans it and
/// compares each row with every number of the batch in turn (2.5 ms a file with 639 lines
/// quarantined and 130 numbers; 0.3 ms as a join, issue 4).
pub fn open_quarantine(conn: &mut DbConnection, numeros: &[String]) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Numero {
        #[diesel(sql_type = diesel::sql_types::Text)]
        numero_dossier: String,
    }
    if let DbConnection::Pg(c) = conn {
        return diesel::sql_query(
            "SELECT DISTINCT q.numero_dossier FROM quarantined_lines AS q \
             JOIN unnest($1::text[]) AS k(numero) ON q.numero_dossier = k.numero \
             WHERE q.superseded_by_fiche_id IS NULL",
        )
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(numeros)
        .load::<Numero>(c)
        .map(|rows| rows.into_iter().map(|r| r.numero_dossier).collect())
        .map_err(StoreError::query("reading open quarantined lines"));
    }
    let mut out = Vec::new();
    for chunk in numeros.chunks(CHUNK) {
        out.extend(
            quarantined_lines::table
                .filter(quarantined_lines::numero_dossier.eq_any(chunk))
                .filter(quarantined_lines::superseded_by_fiche_id.is_null())
                .select(quarantined_lines::numero_dossier.assume_not_null())
                .distinct()
                .load::<String>(conn)
                .map_err(StoreError::query("reading open quarantined lines"))?,
        );
    }
    Ok(out)
}

/// Current purchase orders: (reference, lot, uo).
pub fn current_orders(conn: &mut DbConnection) -> Result<Vec<(String, String, String)>> {
    purchase_orders::table
        .filter(purchase_orders::superseded_at.is_null())
        .select((
            purchase_orders::reference,
            purchase_orders::lot,
            purchase_orders::uo,
        ))
        .load(conn)
        .map_err(StoreError::query("reading purchase orders"))
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = operator_persons, treat_none_as_default_value = false)]
pub struct NewPerson {
    /// Reserved by the insert function; leave 0.
    pub id: i64,
    pub lot: String,
    pub identifiant_beneficiaire: String,
    pub first_seen_at: NaiveDateTime,
}

/// Known identity records of these persons: (person id, identity hash, id).
pub fn identity_hashes(
    conn: &mut DbConnection,
    person_ids: &[i64],
) -> Result<Vec<(i64, String, i64)>> {
    let mut out = Vec::new();
    for chunk in person_ids.chunks(CHUNK) {
        out.extend(
            identity_records::table
                .filter(identity_records::operator_person_id.eq_any(chunk))
                .select((
                    identity_records::operator_person_id,
                    identity_records::identity_hash,
                    identity_records::id,
                ))
                .load(conn)
                .map_err(StoreError::query("reading identity records of a batch"))?,
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = dossiers, treat_none_as_default_value = false)]
pub struct NewDossierRow {
    /// Reserved by the insert function; leave 0.
    pub id: i64,
    pub numero_dossier: String,
    pub lot: String,
    pub uo: String,
    pub region_lot: String,
    pub operator_person_id: i64,
    /// The current state, as of the end of the batch that creates the dossier.
    pub current_horodatage_utc: Option<NaiveDateTime>,
    pub date_engagement: Option<NaiveDate>,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub ever_eligible: bool,
}

/// `fn $name(conn, rows) -> ids`: reserves one id per row, sets it in the row, then writes the
/// rows (nothing to read back): binary `COPY` on PostgreSQL, multi-row inserts on SQLite. The
/// ids come in the order of the rows.
macro_rules! insert_with_reserved_ids {
    ($name:ident, $row:ty, $table:ident, $what:literal) => {
        #[doc = concat!("Inserts rows of `", stringify!($table), "`, setting their `id`; returns the ids in order.")]
        pub fn $name(conn: &mut DbConnection, rows: &mut [$row]) -> Result<Vec<i64>> {
            let ids = reserve_ids(conn, stringify!($table), rows.len())?;
            for (row, id) in rows.iter_mut().zip(&ids) {
                row.id = *id;
            }
            let with_ids = &*rows;
            match conn {
                DbConnection::Pg(c) => diesel::copy_from($table::table)
                    .from_insertable(with_ids)
                    .execute(c)
                    .map(drop),
                DbConnection::Sqlite(c) => sqlite_insert_rows!(c, $table::table, with_ids),
            }
            .map_err(StoreError::query($what))?;
            Ok(ids)
        }
    };
}

insert_with_reserved_ids!(
    insert_persons,
    NewPerson,
    operator_persons,
    "creating operator persons"
);
insert_with_reserved_ids!(
    insert_identities,
    NewIdentityRecord,
    identity_records,
    "recording identity records"
);
insert_with_reserved_ids!(
    insert_dossiers,
    NewDossierRow,
    dossiers,
    "creating dossiers"
);

/// Reserves `n` ids of `table` for rows written with explicit ids in the current transaction:
/// from the table's sequence on PostgreSQL; past the highest id ever given on SQLite (one
/// writer at a time there).
fn reserve_ids(conn: &mut DbConnection, table: &'static str, n: usize) -> Result<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    if n == 0 {
        return Ok(vec![]);
    }
    match conn {
        DbConnection::Pg(c) => diesel::sql_query(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
        )
        .bind::<diesel::sql_types::Text, _>(table)
        .bind::<diesel::sql_types::BigInt, _>(n as i64)
        .load::<Id>(c)
        .map(|v| v.into_iter().map(|r| r.id).collect()),
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), \
             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0)) AS id"
        ))
        .get_result::<Id>(c)
        .map(|base| (1..=n as i64).map(|k| base.id + k).collect()),
    }
    .map_err(StoreError::query("reserving ids"))
}

/// Inserts fiches: binary `COPY` on PostgreSQL, prepared inserts on SQLite.
pub fn insert_fiches(conn: &mut DbConnection, rows: &[NewFiche]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(c) => diesel::copy_from(fiches::table)
            .from_insertable(rows)
            .execute(c)
            .map(drop)
            .map_err(StoreError::query("copying fiches")),
        DbConnection::Sqlite(c) => sqlite_insert_rows!(c, fiches::table, rows)
            .map_err(StoreError::query("recording fiches")),
    }
}

/// A dossier's new current state after a batch.
#[derive(Debug, Clone)]
pub struct DossierState {
    pub id: i64,
    pub horodatage_utc: NaiveDateTime,
    pub date_engagement: NaiveDate,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub ever_eligible: bool,
}

/// Moves existing dossiers to their latest fiche: one statement per chunk on PostgreSQL
/// (arrays unnested), one prepared statement per dossier on SQLite.
pub fn update_dossier_states(conn: &mut DbConnection, states: &[DossierState]) -> Result<()> {
    match conn {
        DbConnection::Pg(c) => {
            use diesel::sql_types::{Array, BigInt, Bool, Date, Nullable, Text, Timestamp};
            for chunk in states.chunks(10_000) {
                diesel::sql_query(
                    "UPDATE dossiers AS d SET \
                     current_horodatage_utc = v.h, date_engagement = v.e, date_cloture = v.c, \
                     motif_cloture = v.m, ever_eligible = v.el \
                     FROM UNNEST($1, $2, $3, $4, $5, $6) AS v(id, h, e, c, m, el) \
                     WHERE d.id = v.id",
                )
                .bind::<Array<BigInt>, _>(chunk.iter().map(|s| s.id).collect::<Vec<_>>())
                .bind::<Array<Timestamp>, _>(
                    chunk.iter().map(|s| s.horodatage_utc).collect::<Vec<_>>(),
                )
                .bind::<Array<Date>, _>(chunk.iter().map(|s| s.date_engagement).collect::<Vec<_>>())
                .bind::<Array<Nullable<Date>>, _>(
                    chunk.iter().map(|s| s.date_cloture).collect::<Vec<_>>(),
                )
                .bind::<Array<Nullable<Text>>, _>(
                    chunk
                        .iter()
                        .map(|s| s.motif_cloture.clone())
                        .collect::<Vec<_>>(),
                )
                .bind::<Array<Bool>, _>(chunk.iter().map(|s| s.ever_eligible).collect::<Vec<_>>())
                .execute(c)
                .map_err(StoreError::query("updating dossiers' current state"))?;
            }
        }
        DbConnection::Sqlite(c) => {
            for s in states {
                diesel::update(dossiers::table.find(s.id))
                    .set((
                        dossiers::current_horodatage_utc.eq(Some(s.horodatage_utc)),
                        dossiers::date_engagement.eq(Some(s.date_engagement)),
                        dossiers::date_cloture.eq(s.date_cloture),
                        dossiers::motif_cloture.eq(s.motif_cloture.as_deref()),
                        dossiers::ever_eligible.eq(s.ever_eligible),
                    ))
                    .execute(c)
                    .map_err(StoreError::query("updating a dossier's current state"))?;
            }
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = consumption_refs, treat_none_as_default_value = false)]
pub struct NewConsumptionRef {
    pub reference: String,
    pub dossier_id: i64,
    pub receipt_id: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = quarantined_lines, treat_none_as_default_value = false)]
pub struct NewQuarantinedLine {
    pub receipt_id: i64,
    pub line_number: i64,
    pub numero_dossier: Option<String>,
    pub raw: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = anomalies, treat_none_as_default_value = false)]
pub struct NewAnomaly {
    pub receipt_id: i64,
    pub line_number: Option<i64>,
    pub numero_dossier: Option<String>,
    pub column_name: Option<String>,
    pub code: String,
    pub severity: String,
    pub message: String,
}

macro_rules! bulk_insert {
    ($name:ident, $row:ty, $table:path, $what:literal) => {
        /// Inserts the rows: binary `COPY` on PostgreSQL, several per statement on SQLite.
        pub fn $name(conn: &mut DbConnection, rows: &[$row]) -> Result<()> {
            if rows.is_empty() {
                return Ok(());
            }
            match conn {
                DbConnection::Pg(c) => diesel::copy_from($table)
                    .from_insertable(rows)
                    .execute(c)
                    .map(drop),
                DbConnection::Sqlite(c) => sqlite_insert_rows!(c, $table, rows),
            }
            .map_err(StoreError::query($what))
        }
    };
}

bulk_insert!(
    insert_consumption_refs,
    NewConsumptionRef,
    consumption_refs::table,
    "recording consumption references"
);
bulk_insert!(
    insert_quarantined,
    NewQuarantinedLine,
    quarantined_lines::table,
    "recording quarantined lines"
);
bulk_insert!(
    insert_anomalies,
    NewAnomaly,
    anomalies::table,
    "recording anomalies"
);

/// Marks a dossier's quarantined lines as superseded by its new fiche (spec point 11).
pub fn supersede_quarantine(
    conn: &mut DbConnection,
    numero: &str,
    dossier_id: i64,
    horodatage_utc: NaiveDateTime,
) -> Result<()> {
    let fiche = fiches::table
        .filter(fiches::dossier_id.eq(dossier_id))
        .filter(fiches::horodatage_utc.eq(horodatage_utc))
        .select(fiches::id)
        .single_value();
    diesel::update(
        quarantined_lines::table
            .filter(quarantined_lines::numero_dossier.eq(numero))
            .filter(quarantined_lines::superseded_by_fiche_id.is_null()),
    )
    .set(quarantined_lines::superseded_by_fiche_id.eq(fiche))
    .execute(conn)
    .map(drop)
    .map_err(StoreError::query("superseding quarantined lines"))
}

/// A processing report as stored for the API.
#[derive(Debug, Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = processing_reports, treat_none_as_default_value = false)]
pub struct ProcessingReportRow {
    pub receipt_id: i64,
    pub lot: Option<String>,
    pub file_name: String,
    pub status: String,
    pub report_json: String,
    pub created_at: NaiveDateTime,
}

impl ProcessingReportRow {
    /// Replaces a receipt's report JSON (retention: anomaly messages erased).
    pub fn set_json(conn: &mut DbConnection, receipt: i64, json: &str) -> Result<()> {
        diesel::update(processing_reports::table.filter(processing_reports::receipt_id.eq(receipt)))
            .set(processing_reports::report_json.eq(json))
            .execute(conn)
            .map(|_| ())
            .map_err(StoreError::query("updating a processing report"))
    }
    /// Every stored report (of one lot when given), newest first.
    pub fn list(conn: &mut DbConnection, lot: Option<&str>) -> Result<Vec<ProcessingReportRow>> {
        let mut q = processing_reports::table.into_boxed();
        if let Some(l) = lot {
            q = q.filter(processing_reports::lot.eq(l));
        }
        q.order((
            processing_reports::created_at.desc(),
            processing_reports::receipt_id.desc(),
        ))
        .select(ProcessingReportRow::as_select())
        .load(conn)
        .map_err(StoreError::query("reading processing reports"))
    }

    pub fn insert(&self, conn: &mut DbConnection) -> Result<()> {
        diesel::insert_into(processing_reports::table)
            .values(self)
            .execute(conn)
            .map(drop)
            .map_err(StoreError::query("storing a processing report"))
    }

    pub fn of_receipt(
        conn: &mut DbConnection,
        receipt_id: i64,
    ) -> Result<Option<ProcessingReportRow>> {
        processing_reports::table
            .find(receipt_id)
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a processing report"))
    }
}

/// Refreshes PostgreSQL's planner statistics of the tables ingestion reads and writes (no-op on
/// SQLite).
pub fn analyze_ingestion_tables(conn: &mut DbConnection) -> Result<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Pg(c) = conn {
        c.batch_execute(
            "ANALYZE receipts; ANALYZE operator_persons; ANALYZE identity_records; \
             ANALYZE dossiers; ANALYZE fiches; ANALYZE consumption_refs; ANALYZE anomalies; \
             ANALYZE quarantined_lines;",
        )
        .map_err(StoreError::query("refreshing statistics"))?;
    }
    Ok(())
}
