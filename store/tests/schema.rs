//! The hand-kept Diesel schema matches both migration trees: every table and column that
//! `schema.rs` declares is selected from a freshly migrated database of each backend.

use cep_store::DbConnection;
use cep_store::schema::*;
use cep_store::testing::each_backend;
use diesel::connection::SimpleConnection;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;

fn check<T>(conn: &mut DbConnection, query: T)
where
    T: diesel::query_builder::QueryFragment<Pg> + diesel::query_builder::QueryFragment<Sqlite>,
{
    let sql = match conn {
        DbConnection::Pg(_) => diesel::debug_query::<Pg, _>(&query).to_string(),
        DbConnection::Sqlite(_) => diesel::debug_query::<Sqlite, _>(&query).to_string(),
    };
    let sql = sql.split(" -- binds:").next().unwrap();
    conn.batch_execute(&format!("{sql} LIMIT 0"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

macro_rules! check_tables {
    ($conn:expr, $($t:ident),+ $(,)?) => {
        $( check($conn, $t::table.select($t::all_columns)); )+
    };
}

#[test]
fn every_declared_column_exists_on_both_backends() {
    each_backend(|db| {
        let mut c = db.conn();
        check_tables!(
            &mut c,
            operators,
            buyer_imports,
            receipts,
            operator_persons,
            identity_records,
            dossiers,
            fiches,
            quarantined_lines,
            anomalies,
            purchase_orders,
            survey_answers,
            mystery_contacts,
            deliverable_controls,
            reference_populations,
            complaints,
            means,
            users,
            consumption_refs,
            processing_reports,
            pull_cursors,
            link_runs,
            link_events,
            link_decisions,
            link_keys,
            order_alerts,
            consumption_statements,
            indicator_runs,
            indicator_values,
            mediation_cases,
            audit_log,
            revoked_tokens,
        );
    });
}

#[test]
fn the_ingestion_tables_statistics_refresh_on_both_backends() {
    cep_store::testing::each_backend(|db| {
        cep_store::models::ingest::analyze_ingestion_tables(&mut db.conn()).unwrap();
    });
}
