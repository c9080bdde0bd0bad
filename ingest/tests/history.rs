//! History and idempotence (DESIGN decisions 2 and 3, spec point 12): the same content twice
//! changes nothing whatever its name; fiches arriving out of order keep the latest as the
//! current state; the state as known at a past reception time can be read back.

mod common;

use cep_ingest::Status;
use cep_store::models::dossiers::Fiche;
use common::*;
use diesel::prelude::*;

fn count(env: &Env, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = env.store.conn().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<N>(&mut c)
        .unwrap()
        .n
}

#[test]
fn the_same_content_twice_is_a_duplicate_whatever_its_name() {
    on_each(|env| {
        let body = csv(&[fiche("01"), fiche("00")]);
        let first = env.dossiers("08", &body);
        assert_eq!((first.status, first.accepted), (Status::Accepted, 2));
        let tables = [
            "receipts",
            "fiches",
            "dossiers",
            "operator_persons",
            "identity_records",
            "anomalies",
        ];
        let before: Vec<i64> = tables.iter().map(|t| count(env, t)).collect();
        let again = env.dossiers("08", &body);
        assert_eq!((again.status, again.lines), (Status::Duplicate, 0));
        assert_eq!(again.sha256, first.sha256);
        let after: Vec<i64> = tables.iter().map(|t| count(env, t)).collect();
        assert_eq!(before, after);
        // The same fiches in a new file (other bytes) are no-ops, not new versions (point 12).
        let mut other = body.clone();
        other.extend_from_slice(b"\n");
        let r = env.dossiers("08", &other);
        assert_eq!(
            (r.status, r.accepted, r.unchanged),
            (Status::Accepted, 2, 2)
        );
        assert_eq!(count(env, "fiches"), 2);
    });
}

#[test]
fn out_of_order_fiches_keep_the_latest_current_and_every_one_in_history() {
    on_each(|env| {
        let early = fiche("01");
        let mid = set(fiche("01"), "2025-03-11T19:00:00+01:00", "SITE-02");
        let late = set(fiche("01"), "2025-03-11T20:00:00+01:00", "SITE-03");
        // Latest first, then the two older ones in a later file.
        let r1 = env.dossiers("08", &csv(&[late]));
        assert_eq!(r1.accepted, 1);
        let r2 = env.dossiers("08", &csv(&[early, mid]));
        assert_eq!(codes(&r2), vec!["FICHE_STALE", "FICHE_STALE"]);
        let mut c = env.store.conn().unwrap();
        let current = Fiche::current(&mut c, "A7250301000001").unwrap().unwrap();
        assert_eq!(current.structure.as_deref(), Some("SITE-03"));
        let history = Fiche::history(&mut c, "A7250301000001").unwrap();
        let sites: Vec<_> = history
            .iter()
            .map(|f| f.structure.clone().unwrap())
            .collect();
        assert_eq!(sites, ["SITE-01", "SITE-02", "SITE-03"]);
    });
}

#[test]
fn the_state_as_known_at_a_past_reception_time_is_read_back() {
    on_each(|env| {
        let first = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250310_01.csv",
            &csv(&[fiche("01")]),
            "2025-03-12T08:00:00Z",
        );
        assert_eq!(first.accepted, 1);
        let closed = closed(
            set(fiche("01"), "2025-03-15T18:00:00+01:00", "SITE-01"),
            "2025-03-14",
        );
        let second = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250315_01.csv",
            &csv(&[closed]),
            "2025-03-16T08:00:00Z",
        );
        assert_eq!(second.anomalies, vec![]);
        let mut c = env.store.conn().unwrap();
        let mut at = |t: &str| {
            Fiche::state_as_of(
                &mut c,
                "A7250301000001",
                t.parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
                    .naive_utc(),
            )
            .unwrap()
            .map(|f| f.date_cloture)
        };
        assert_eq!(at("2025-03-11T00:00:00Z"), None);
        assert_eq!(at("2025-03-13T00:00:00Z"), Some(None));
        assert_eq!(
            at("2025-03-17T00:00:00Z"),
            Some(Some("2025-03-14".parse().unwrap()))
        );
        // A second dossier, received between the two; every dossier's state at once agrees
        // with the one-dossier reading at each cut-off.
        let other = set(fiche("01"), "2025-03-13T10:00:00+01:00", "SITE-09");
        let other = set_col(other, "numero_dossier", "A7250301000002");
        let other = set_col(other, "reference_bc", "2025-Lot08-UO01-01-00002");
        let r = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250313_01.csv",
            &csv(&[other]),
            "2025-03-14T08:00:00Z",
        );
        assert_eq!(r.accepted, 1, "{:?}", r.anomalies);
        for (t, expected) in [
            ("2025-03-11T00:00:00Z", vec![]),
            ("2025-03-13T00:00:00Z", vec![("A7250301000001", None)]),
            (
                "2025-03-15T00:00:00Z",
                vec![("A7250301000001", None), ("A7250301000002", None)],
            ),
            (
                "2025-03-17T00:00:00Z",
                vec![
                    ("A7250301000001", Some("2025-03-14".parse().unwrap())),
                    ("A7250301000002", None),
                ],
            ),
        ] {
            let cutoff = t
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .naive_utc();
            let states: Vec<(String, Option<chrono::NaiveDate>)> =
                Fiche::states_as_of(&mut c, cutoff)
                    .unwrap()
                    .into_iter()
                    .map(|(d, f)| (d.numero_dossier, f.date_cloture))
                    .collect();
            let expected: Vec<(String, Option<chrono::NaiveDate>)> = expected
                .into_iter()
                .map(|(n, d)| (n.to_owned(), d))
                .collect();
            assert_eq!(states, expected, "as of {t}");
        }
    });
}

fn set_col(
    mut f: std::collections::BTreeMap<&'static str, String>,
    col: &'static str,
    value: &str,
) -> std::collections::BTreeMap<&'static str, String> {
    f.insert(col, value.into());
    f
}

#[test]
fn a_corrected_fiche_supersedes_the_quarantined_line() {
    on_each(|env| {
        let bad = set(fiche("01"), "2025-03-11T18:00:00+01:00", "");
        let r = env.dossiers("08", &csv(&[bad]));
        assert_eq!((r.quarantined, codes(&r)), (1, vec!["MISSING_VALUE"]));
        let r = env.dossiers("08", &csv(&[fiche("01")]));
        assert_eq!(r.accepted, 1);
        #[derive(QueryableByName)]
        struct Q {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
            superseded_by_fiche_id: Option<i64>,
        }
        let mut c = env.store.conn().unwrap();
        let q: Q = diesel::sql_query("SELECT superseded_by_fiche_id FROM quarantined_lines")
            .get_result(&mut c)
            .unwrap();
        assert!(q.superseded_by_fiche_id.is_some());
    });
}

/// The fiche with another `horodatage` and `structure` (an empty structure removes it).
fn set(
    mut f: std::collections::BTreeMap<&'static str, String>,
    stamp: &str,
    site: &str,
) -> std::collections::BTreeMap<&'static str, String> {
    f.insert("horodatage", stamp.into());
    if site.is_empty() {
        f.remove("structure");
    } else {
        f.insert("structure", site.into());
    }
    f
}
