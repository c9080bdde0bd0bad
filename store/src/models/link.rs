//! Identity resolution's rows: what the linker reads (each operator person's latest identity)
//! and writes (national person ids, runs, merges and splits), and analysts' decisions.

use crate::schema::{identity_records, link_decisions, link_events, link_runs, operator_persons};
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

/// Every operator person, in id order, with its identity.
pub fn link_sources(conn: &mut DbConnection) -> Result<Vec<LinkSource>> {
    let persons: Vec<(i64, String, String, Option<String>)> = operator_persons::table
        .select((
            operator_persons::id,
            operator_persons::lot,
            operator_persons::identifiant_beneficiaire,
            operator_persons::national_person_id,
        ))
        .order(operator_persons::id)
        .load(conn)
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
    let rows: Vec<IdentityRow> = identity_records::table
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
        .order((identity_records::operator_person_id, identity_records::id))
        .load(conn)
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
            use diesel::sql_types::{Array, BigInt, Text};
            for chunk in ids.chunks(10_000) {
                diesel::sql_query(
                    "UPDATE operator_persons AS p SET national_person_id = v.n \
                     FROM UNNEST($1, $2) AS v(id, n) WHERE p.id = v.id",
                )
                .bind::<Array<BigInt>, _>(chunk.iter().map(|r| r.0).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(chunk.iter().map(|r| r.1.clone()).collect::<Vec<_>>())
                .execute(c)
                .map_err(StoreError::query("setting national person ids"))?;
            }
        }
        DbConnection::Sqlite(c) => {
            for (id, national) in ids {
                diesel::update(operator_persons::table.find(id))
                    .set(operator_persons::national_person_id.eq(national))
                    .execute(c)
                    .map_err(StoreError::query("setting a national person id"))?;
            }
        }
    }
    Ok(())
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
