//! Identity resolution's rows: what the linker reads (each operator person's latest identity)
//! and writes (national person ids, runs, merges and splits), and analysts' decisions.

use crate::schema::{
    identity_records, link_decisions, link_events, link_keys, link_runs, operator_persons,
};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// An operator person with the identity the linker compares: its latest identity record, and
/// the latest NIR it was ever given (a NIR sent once and omitted later still identifies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkSource {
    pub operator_person_id: i64,
    pub lot: String,
    pub identifiant_beneficiaire: String,
    pub national_person_id: Option<String>,
    pub nom: Option<String>,
    pub nom_usage: Option<String>,
    pub prenom: Option<String>,
    pub sexe: Option<String>,
    pub date_naissance: Option<NaiveDate>,
    pub nir: Option<String>,
    pub email: Option<String>,
    pub code_postal: Option<String>,
    pub commune: Option<String>,
}

type IdentityRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Ids per `IN (…)` list on SQLite: well within its limit on bound parameters (32,766).
const CHUNK: usize = 8_000;

/// Ids per `= ANY(…)` array on PostgreSQL: larger arrays made it choose sequential scans.
const PG_CHUNK: usize = 900;

fn chunk_size(conn: &DbConnection) -> usize {
    match conn {
        DbConnection::Pg(_) => PG_CHUNK,
        DbConnection::Sqlite(_) => CHUNK,
    }
}

/// Every operator person, in id order, with its identity.
pub fn link_sources(conn: &mut DbConnection) -> Result<Vec<LinkSource>> {
    sources(conn, None)
}

/// These operator persons (in id order), with their identity.
pub fn link_sources_of(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<LinkSource>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut out = Vec::with_capacity(ids.len());
    let size = chunk_size(conn);
    for chunk in ids.chunks(size) {
        out.extend(sources(conn, Some(chunk))?);
    }
    Ok(out)
}

fn sources(conn: &mut DbConnection, only: Option<&[i64]>) -> Result<Vec<LinkSource>> {
    let q = operator_persons::table
        .select((
            operator_persons::id,
            operator_persons::lot,
            operator_persons::identifiant_beneficiaire,
            operator_persons::national_person_id,
        ))
        .order(operator_persons::id);
    let persons: Vec<(i64, String, String, Option<String>)> = match only {
        Some(ids) => q.filter(operator_persons::id.eq_any(ids)).load(conn),
        None => q.load(conn),
    }
    .map_err(StoreError::query("reading operator persons"))?;
    let mut out: Vec<LinkSource> = persons
        .into_iter()
        .map(|(id, lot, ident, national)| LinkSource {
            operator_person_id: id,
            lot,
            identifiant_beneficiaire: ident,
            national_person_id: national,
            ..Default::default()
        })
        .collect();
    let q = identity_records::table
        .select((
            identity_records::operator_person_id,
            identity_records::nom,
            identity_records::nom_usage,
            identity_records::prenom,
            identity_records::sexe,
            identity_records::date_naissance,
            identity_records::nir,
            identity_records::email,
            identity_records::adresse_code_postal,
            identity_records::adresse_commune,
        ))
        .order((identity_records::operator_person_id, identity_records::id));
    let rows: Vec<IdentityRow> = match only {
        Some(ids) => q
            .filter(identity_records::operator_person_id.eq_any(ids))
            .load(conn),
        None => q.load(conn),
    }
    .map_err(StoreError::query("reading identity records"))?;
    let mut at = 0;
    for (person, nom, nom_usage, prenom, sexe, naissance, nir, email, cp, commune) in rows {
        while at < out.len() && out[at].operator_person_id < person {
            at += 1;
        }
        let Some(s) = out.get_mut(at).filter(|s| s.operator_person_id == person) else {
            continue;
        };
        let kept_nir = nir.or_else(|| s.nir.take());
        *s = LinkSource {
            nom,
            nom_usage,
            prenom,
            sexe,
            date_naissance: naissance,
            nir: kept_nir,
            email,
            code_postal: cp,
            commune,
            ..std::mem::take(s)
        };
    }
    Ok(out)
}

/// Sets national person ids: one statement per chunk on PostgreSQL (arrays unnested), one
/// prepared statement per row on SQLite.
pub fn set_national_ids(conn: &mut DbConnection, ids: &[(i64, String)]) -> Result<()> {
    match conn {
        DbConnection::Pg(c) => {
            // COPY into a temporary table, then one UPDATE joining it: a million rows in
            // statements of 10,000 took three times as long.
            use diesel::connection::SimpleConnection;
            c.batch_execute(
                "CREATE TEMP TABLE IF NOT EXISTS link_ids (id BIGINT PRIMARY KEY, n TEXT NOT NULL); \
                 TRUNCATE link_ids;",
            )
            .map_err(StoreError::query("preparing national person ids"))?;
            let rows: Vec<IdRow> = ids
                .iter()
                .map(|(id, n)| IdRow {
                    id: *id,
                    n: n.clone(),
                })
                .collect();
            diesel::copy_from(link_ids::table)
                .from_insertable(rows.as_slice())
                .execute(c)
                .map_err(StoreError::query("copying national person ids"))?;
            c.batch_execute(
                "ANALYZE link_ids; \
                 UPDATE operator_persons AS p SET national_person_id = t.n \
                 FROM link_ids AS t WHERE p.id = t.id; TRUNCATE link_ids;",
            )
            .map_err(StoreError::query("setting national person ids"))?;
        }
        DbConnection::Sqlite(c) => {
            // One UPDATE from a temporary table: a million single-row UPDATEs take minutes.
            use diesel::connection::SimpleConnection;
            c.batch_execute(
                "CREATE TEMP TABLE IF NOT EXISTS link_ids (id INTEGER PRIMARY KEY, n TEXT NOT NULL); \
                 DELETE FROM temp.link_ids;",
            )
            .map_err(StoreError::query("preparing national person ids"))?;
            for chunk in ids.chunks(500) {
                let mut sql = String::from("INSERT INTO temp.link_ids (id, n) VALUES ");
                for (k, (id, national)) in chunk.iter().enumerate() {
                    // Ids are generated here (`NP` + hex); anything else is refused, not quoted.
                    if !national.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        return Err(StoreError::Invalid(format!(
                            "national person id {national:?} is not alphanumeric"
                        )));
                    }
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("({id},'{national}')"));
                }
                c.batch_execute(&sql)
                    .map_err(StoreError::query("preparing national person ids"))?;
            }
            c.batch_execute(
                "UPDATE operator_persons SET national_person_id = \
                 (SELECT n FROM temp.link_ids WHERE link_ids.id = operator_persons.id) \
                 WHERE id IN (SELECT id FROM temp.link_ids); DELETE FROM temp.link_ids;",
            )
            .map_err(StoreError::query("setting national person ids"))?;
        }
    }
    Ok(())
}

// The temporary table national person ids are copied into on PostgreSQL (not in the schema:
// it exists only in the session that writes).
diesel::table! {
    link_ids (id) {
        id -> BigInt,
        n -> Text,
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = link_ids, treat_none_as_default_value = false)]
struct IdRow {
    id: i64,
    n: String,
}

/// A linking run as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_runs)]
pub struct LinkRun {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub mode: String,
    pub records: i64,
    pub new_records: i64,
    pub candidate_pairs: i64,
    pub matched_pairs: i64,
    pub ids_changed: i64,
    pub model: String,
}

impl LinkRun {
    /// Records the run; returns its id.
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, link_runs::table, link_runs::id, self)
            .map_err(StoreError::query("recording a linking run"))
    }

    /// The latest run, if any.
    pub fn latest(conn: &mut DbConnection) -> Result<Option<LinkRun>> {
        link_runs::table
            .order(link_runs::id.desc())
            .select(LinkRun::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading the latest linking run"))
    }
}

/// A merge or split of national person ids.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_events)]
pub struct LinkEvent {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub run_id: i64,
    pub kind: String,
    pub national_person_id: String,
    pub other_national_person_id: String,
    pub records: i64,
    pub reason: String,
}

impl LinkEvent {
    pub fn insert_all(conn: &mut DbConnection, events: &[LinkEvent]) -> Result<()> {
        for chunk in events.chunks(500) {
            crate::on_backend!(conn, |c| diesel::insert_into(link_events::table)
                .values(chunk)
                .execute(c))
            .map_err(StoreError::query("recording merges and splits"))?;
        }
        Ok(())
    }

    /// Every event, or those of one national person (kept, absorbed, left or created).
    pub fn list(conn: &mut DbConnection, person: Option<&str>) -> Result<Vec<LinkEvent>> {
        let q = link_events::table
            .order(link_events::id)
            .select(LinkEvent::as_select());
        match person {
            Some(p) => q
                .filter(
                    link_events::national_person_id
                        .eq(p)
                        .or(link_events::other_national_person_id.eq(p)),
                )
                .load(conn),
            None => q.load(conn),
        }
        .map_err(StoreError::query("reading merges and splits"))
    }
}

/// An analyst's decision on two operator persons: the same person or not. The latest decision
/// on a pair holds; earlier ones stay as history.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = link_decisions)]
pub struct LinkDecision {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub operator_person_a: i64,
    pub operator_person_b: i64,
    pub same: bool,
    pub decided_by: String,
    pub reason: String,
    pub decided_at: NaiveDateTime,
}

impl LinkDecision {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, link_decisions::table, link_decisions::id, self)
            .map_err(StoreError::query("recording a linking decision"))
    }

    /// The decision in force for each pair (the latest), in decision order.
    pub fn in_force(conn: &mut DbConnection) -> Result<Vec<LinkDecision>> {
        let all: Vec<LinkDecision> = link_decisions::table
            .order(link_decisions::id)
            .select(LinkDecision::as_select())
            .load(conn)
            .map_err(StoreError::query("reading linking decisions"))?;
        let mut latest: std::collections::BTreeMap<(i64, i64), LinkDecision> = Default::default();
        for d in all {
            let key = (
                d.operator_person_a.min(d.operator_person_b),
                d.operator_person_a.max(d.operator_person_b),
            );
            latest.insert(key, d);
        }
        let mut out: Vec<LinkDecision> = latest.into_values().collect();
        out.sort_by_key(|d| d.id);
        Ok(out)
    }
}

/// The operator person of a lot's beneficiary id, with its national id.
pub fn operator_person(
    conn: &mut DbConnection,
    lot: &str,
    identifiant: &str,
) -> Result<Option<(i64, Option<String>)>> {
    operator_persons::table
        .filter(operator_persons::lot.eq(lot))
        .filter(operator_persons::identifiant_beneficiaire.eq(identifiant))
        .select((operator_persons::id, operator_persons::national_person_id))
        .first(conn)
        .optional()
        .map_err(StoreError::query("finding an operator person"))
}

/// `(lot, identifiant_beneficiaire, national_person_id)` of every operator person, by lot and id.
pub fn linkage(conn: &mut DbConnection) -> Result<Vec<(String, String, Option<String>)>> {
    operator_persons::table
        .select((
            operator_persons::lot,
            operator_persons::identifiant_beneficiaire,
            operator_persons::national_person_id,
        ))
        .order((
            operator_persons::lot,
            operator_persons::identifiant_beneficiaire,
        ))
        .load(conn)
        .map_err(StoreError::query("reading the linkage"))
}

/// Operator persons without a national id.
pub fn unlinked(conn: &mut DbConnection) -> Result<Vec<i64>> {
    operator_persons::table
        .filter(operator_persons::national_person_id.is_null())
        .select(operator_persons::id)
        .order(operator_persons::id)
        .load(conn)
        .map_err(StoreError::query(
            "reading operator persons without a national id",
        ))
}

/// Operator persons already linked that received a new identity record since `since`.
pub fn identity_changed_since(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Vec<i64>> {
    identity_records::table
        .inner_join(operator_persons::table)
        .filter(identity_records::first_seen_at.ge(since))
        .filter(operator_persons::national_person_id.is_not_null())
        .select(identity_records::operator_person_id)
        .distinct()
        .load(conn)
        .map_err(StoreError::query(
            "reading identities changed since the last linking run",
        ))
}

/// Operator persons of these national persons.
pub fn members_of(conn: &mut DbConnection, national_ids: &[String]) -> Result<Vec<i64>> {
    let mut out = Vec::new();
    let size = chunk_size(conn);
    for chunk in national_ids.chunks(size) {
        out.extend(
            operator_persons::table
                .filter(operator_persons::national_person_id.eq_any(chunk))
                .select(operator_persons::id)
                .load::<i64>(conn)
                .map_err(StoreError::query("reading the members of national persons"))?,
        );
    }
    Ok(out)
}

/// Which of these national ids are already given.
pub fn ids_in_use(conn: &mut DbConnection, national_ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let size = chunk_size(conn);
    for chunk in national_ids.chunks(size) {
        out.extend(
            operator_persons::table
                .filter(operator_persons::national_person_id.eq_any(chunk))
                .select(operator_persons::national_person_id.assume_not_null())
                .distinct()
                .load::<String>(conn)
                .map_err(StoreError::query("checking national ids"))?,
        );
    }
    Ok(out)
}

/// `(key, operator person)` of every holder of these blocking keys.
pub fn key_holders(conn: &mut DbConnection, keys: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    let size = chunk_size(conn);
    for chunk in keys.chunks(size) {
        out.extend(
            link_keys::table
                .filter(link_keys::key.eq_any(chunk))
                .select((link_keys::key, link_keys::operator_person_id))
                .load::<(i64, i64)>(conn)
                .map_err(StoreError::query("reading blocking keys"))?,
        );
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = link_keys, treat_none_as_default_value = false)]
struct KeyRow {
    key: i64,
    operator_person_id: i64,
}

/// Writes blocking keys `(key, operator person)`, after deleting every key (`all`) or those of
/// the operator persons in `stale` (linked before, linked again now).
pub fn replace_keys(
    conn: &mut DbConnection,
    rows: &[(i64, i64)],
    stale: &[i64],
    all: bool,
) -> Result<()> {
    if all {
        match conn {
            DbConnection::Pg(c) => {
                use diesel::connection::SimpleConnection;
                c.batch_execute("TRUNCATE link_keys")
            }
            DbConnection::Sqlite(c) => diesel::delete(link_keys::table).execute(c).map(drop),
        }
        .map_err(StoreError::query("clearing blocking keys"))?;
    } else {
        let size = chunk_size(conn);
        for chunk in stale.chunks(size) {
            crate::on_backend!(conn, |c| diesel::delete(
                link_keys::table.filter(link_keys::operator_person_id.eq_any(chunk))
            )
            .execute(c))
            .map_err(StoreError::query("clearing blocking keys"))?;
        }
    }
    let rows: Vec<KeyRow> = rows
        .iter()
        .map(|&(key, operator_person_id)| KeyRow {
            key,
            operator_person_id,
        })
        .collect();
    match conn {
        // Millions of rows in a full run: COPY, not INSERT, and the index built afterwards.
        DbConnection::Pg(c) => {
            use diesel::connection::SimpleConnection;
            if all {
                c.batch_execute("DROP INDEX IF EXISTS link_keys_key")
                    .map_err(StoreError::query("writing blocking keys"))?;
            }
            diesel::copy_from(link_keys::table)
                .from_insertable(rows.as_slice())
                .execute(c)
                .map_err(StoreError::query("copying blocking keys"))?;
            if all {
                c.batch_execute("CREATE INDEX link_keys_key ON link_keys (key)")
                    .map_err(StoreError::query("indexing blocking keys"))?;
            }
        }
        DbConnection::Sqlite(c) => {
            for chunk in rows.chunks(CHUNK / 2) {
                diesel::insert_into(link_keys::table)
                    .values(chunk)
                    .execute(c)
                    .map_err(StoreError::query("writing blocking keys"))?;
            }
        }
    }
    Ok(())
}

/// National persons, and those with operator persons in more than one lot.
pub fn person_counts(conn: &mut DbConnection) -> Result<(i64, i64)> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let several = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM (SELECT national_person_id FROM operator_persons \
         WHERE national_person_id IS NOT NULL GROUP BY national_person_id \
         HAVING COUNT(DISTINCT lot) > 1) AS s",
    )
    .get_result::<N>(conn)
    .map_err(StoreError::query("counting persons at several operators"))?
    .n;
    let persons =
        diesel::sql_query("SELECT COUNT(DISTINCT national_person_id) AS n FROM operator_persons")
            .get_result::<N>(conn)
            .map_err(StoreError::query("counting national persons"))?
            .n;
    Ok((persons, several))
}

/// Refreshes the planner's statistics of the linking tables after a full run wrote millions of
/// rows (PostgreSQL; SQLite plans without them).
pub fn analyze(conn: &mut DbConnection) -> Result<()> {
    use diesel::connection::SimpleConnection;
    if let DbConnection::Pg(c) = conn {
        c.batch_execute("ANALYZE link_keys; ANALYZE operator_persons; ANALYZE identity_records;")
            .map_err(StoreError::query("refreshing statistics"))?;
    }
    Ok(())
}

/// The national person id of every linked operator person.
pub fn national_ids(conn: &mut DbConnection) -> Result<std::collections::HashMap<i64, String>> {
    Ok(operator_persons::table
        .filter(operator_persons::national_person_id.is_not_null())
        .select((
            operator_persons::id,
            operator_persons::national_person_id.assume_not_null(),
        ))
        .load::<(i64, String)>(conn)
        .map_err(StoreError::query("reading national person ids"))?
        .into_iter()
        .collect())
}
