//! Retention (RGPD) on the binary: lot 08's feeds received long ago, lot 19's now; `cep purge`
//! erases the identities of lot 08's persons and their raw files, keeps lot 19's, leaves the
//! stored indicator run and the audit chain intact, and a recomputation gives the same figures.

use std::path::Path;

mod common;
use common::{cep, ok, sqlite_count};

#[test]
fn a_purge_erases_old_personal_data_and_keeps_the_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = tmp.path().join("feeds");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    common::synth_and_import(&|a| ok(cep(&data, a)), &feeds, "8", "2", "0.01", "08,19");
    let inbox = feeds.join("inbox");
    ok(cep(
        &data,
        &[
            "ingest",
            &s(&inbox.join("L08")),
            "--received-at",
            "2025-03-01T12:00:00+01:00",
        ],
    ));
    ok(cep(&data, &["ingest", &s(&inbox.join("L19"))]));
    let cutoff = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string();
    let before_csv = tmp.path().join("before.csv");
    ok(cep(
        &data,
        &[
            "compute",
            "--month",
            "2025-02",
            "--cutoff",
            &cutoff,
            "--out",
            &s(&before_csv),
        ],
    ));
    let db = data.join("cep.db");
    let named = |lot: &str| {
        sqlite_count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM identity_records i JOIN operator_persons p \
                 ON p.id = i.operator_person_id WHERE p.lot = '{lot}' AND i.nom IS NOT NULL"
            ),
        )
    };
    let (named08, named19) = (named("08"), named("19"));
    assert!(named08 > 0 && named19 > 0);
    let archived = |lot: &str| -> Vec<String> {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::Text)]
            archive_path: String,
        }
        let store = cep_store::Store::open(&cep_store::DatabaseUrl::Sqlite(db.clone()), 1).unwrap();
        diesel::sql_query(format!(
            "SELECT archive_path FROM receipts WHERE lot = '{lot}'"
        ))
        .load::<P>(&mut *store.conn().unwrap())
        .unwrap()
        .into_iter()
        .map(|p| p.archive_path)
        .collect()
    };
    let (files08, files19) = (archived("08"), archived("19"));
    assert!(
        files08
            .iter()
            .chain(&files19)
            .all(|f| Path::new(f).exists())
    );

    // 36 months by default: nothing is old enough yet.
    let said = ok(cep(&data, &["purge"]));
    assert!(said.contains("identities of 0 record(s)"), "{said}");
    // Two years later, lot 08 (received in March 2025) is past the limit, lot 19 is not.
    let said = ok(cep(&data, &["purge", "--at", "2028-06-01T00:00:00+02:00"]));
    assert!(
        said.contains(&format!("identities of {named08} record(s)")),
        "{said}"
    );
    assert_eq!(named("08"), 0);
    assert_eq!(named("19"), named19);
    assert!(
        files08.iter().all(|f| !Path::new(f).exists()),
        "lot 08's raw files deleted"
    );
    assert!(
        files19.iter().all(|f| Path::new(f).exists()),
        "lot 19's kept"
    );
    let personal = |lot: &str| {
        sqlite_count(
            &db,
            &format!(
                "SELECT count(*) AS n FROM identity_records WHERE (nir IS NOT NULL \
                 OR date_naissance IS NOT NULL OR email IS NOT NULL OR prenom IS NOT NULL \
                 OR telephone IS NOT NULL OR adresse_voie IS NOT NULL) AND operator_person_id \
                 IN (SELECT id FROM operator_persons WHERE lot = '{lot}')"
            ),
        )
    };
    assert_eq!(
        personal("08"),
        0,
        "nothing personal left of lot 08's persons"
    );
    assert!(personal("19") > 0, "lot 19's identities kept");
    // The stored run is unchanged, a recomputation at the same cut-off gives the same
    // figures, and the audit chain (with the purge recorded) holds.
    let runs = ok(cep(&data, &["compute", "--run", "1"]));
    assert!(runs.contains("run 1"));
    let after_csv = tmp.path().join("after.csv");
    ok(cep(
        &data,
        &[
            "compute",
            "--month",
            "2025-02",
            "--cutoff",
            &cutoff,
            "--out",
            &s(&after_csv),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(&before_csv).unwrap(),
        std::fs::read_to_string(&after_csv).unwrap()
    );
    ok(cep(&data, &["audit", "verify"]));
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT count(*) AS n FROM audit_log WHERE action = 'retention_purge'"
        ),
        2
    );
    // Purging again erases nothing more.
    let said = ok(cep(&data, &["purge", "--at", "2028-06-01T00:00:00+02:00"]));
    assert!(
        said.contains("identities of 0 record(s)") && said.contains("0 receipt(s)"),
        "{said}"
    );
}
