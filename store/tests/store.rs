//! Store tests, each run on SQLite and (when configured) on a fresh PostgreSQL database.

use cep_store::models::buyer::{NewOperator, Operator, Recorded};
use cep_store::models::dossiers::{
    Dossier, Fiche, IdentityRecord, NewDossier, NewFiche, NewIdentityRecord, OperatorPerson,
};
use cep_store::models::receipts::{NewReceipt, Receipt};
use cep_store::testing::{TestDb, each_backend};
use chrono::{NaiveDate, NaiveDateTime};

fn ts(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn receipt(db: &TestDb, sha: &str, received: &str) -> i64 {
    NewReceipt {
        sha256: sha,
        lot: Some("08"),
        kind: Some("DOSSIERS"),
        channel: "cli",
        file_name: "CEP_L08_DOSSIERS_20251014_01.csv",
        size_bytes: 1234,
        received_at: ts(received),
        received_at_override: false,
        archive_path: "archive/ab/abcdef",
        status: "received",
        lines_total: 0,
        lines_accepted: 0,
        lines_quarantined: 0,
        warnings: 0,
    }
    .insert(&mut db.conn())
    .unwrap()
}

#[test]
fn migrations_are_applied_and_idempotent() {
    each_backend(|db| {
        assert!(db.store.pending_migrations().unwrap().is_empty());
        assert!(
            db.store.migrate().unwrap().is_empty(),
            "second run applies nothing"
        );
    });
}

#[test]
fn receipts_are_found_by_content_hash() {
    each_backend(|db| {
        let id = receipt(db, "aa11", "2025-10-14 18:05:00");
        let mut c = db.conn();
        let r = Receipt::find_by_sha256(&mut c, "aa11").unwrap().unwrap();
        assert_eq!(
            (r.id, r.status.as_str(), r.size_bytes),
            (id, "received", 1234)
        );
        assert!(Receipt::find_by_sha256(&mut c, "bb22").unwrap().is_none());
        Receipt::finish(
            &mut c,
            id,
            "accepted",
            [10, 9, 1, 2],
            ts("2025-10-14 18:05:03"),
        )
        .unwrap();
        let r = Receipt::find_by_sha256(&mut c, "aa11").unwrap().unwrap();
        assert_eq!(
            (
                r.lines_total,
                r.lines_accepted,
                r.lines_quarantined,
                r.warnings
            ),
            (10, 9, 1, 2)
        );
        // The same content cannot be recorded twice (content-addressed).
        let again = NewReceipt {
            file_name: "other-name.csv",
            ..sample_receipt()
        }
        .insert(&mut c);
        assert!(again.is_err());
    });
}

fn sample_receipt() -> NewReceipt<'static> {
    NewReceipt {
        sha256: "aa11",
        lot: Some("08"),
        kind: Some("DOSSIERS"),
        channel: "cli",
        file_name: "x.csv",
        size_bytes: 1,
        received_at: ts("2025-10-14 18:05:00"),
        received_at_override: false,
        archive_path: "a",
        status: "received",
        lines_total: 0,
        lines_accepted: 0,
        lines_quarantined: 0,
        warnings: 0,
    }
}

#[test]
fn spec_9_operator_amendments_are_kept_in_history() {
    each_backend(|db| {
        let mut c = db.conn();
        let op = NewOperator {
            lot: "08".into(),
            code_operateur: "A7".into(),
            nom: "Opérateur Pays de la Loire".into(),
            date_debut: d("2024-01-01"),
            date_fin: None,
            import_id: None,
            recorded_at: ts("2025-01-01 00:00:00"),
        };
        assert_eq!(op.record(&mut c).unwrap(), Recorded::New);
        assert_eq!(op.record(&mut c).unwrap(), Recorded::Unchanged);
        let amended = NewOperator {
            date_fin: Some(d("2027-12-31")),
            recorded_at: ts("2025-06-01 00:00:00"),
            ..op.clone()
        };
        assert_eq!(amended.record(&mut c).unwrap(), Recorded::Amended);
        let history = Operator::history(&mut c, "08", d("2024-01-01")).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].superseded_at, Some(ts("2025-06-01 00:00:00")));
        assert_eq!(history[1].date_fin, Some(d("2027-12-31")));
        assert_eq!(Operator::all_current(&mut c).unwrap().len(), 1);
        // Point 15: the operator whose period contains the engagement date.
        assert_eq!(
            Operator::of_lot_at(&mut c, "08", d("2025-10-14"))
                .unwrap()
                .unwrap()
                .code_operateur,
            "A7"
        );
        assert!(
            Operator::of_lot_at(&mut c, "08", d("2023-12-31"))
                .unwrap()
                .is_none()
        );
        assert!(
            Operator::of_lot_at(&mut c, "08", d("2028-01-01"))
                .unwrap()
                .is_none()
        );
    });
}

fn fiche(
    dossier_id: i64,
    receipt_id: i64,
    horodatage: &str,
    received: &str,
    statut: &str,
) -> NewFiche {
    NewFiche {
        dossier_id,
        receipt_id,
        line_number: 2,
        horodatage: horodatage.into(),
        horodatage_utc: ts(horodatage),
        received_at: ts(received),
        content_hash: format!("h-{horodatage}-{statut}"),
        uo: "01".into(),
        region_lot: Some("08".into()),
        statut: statut.into(),
        date_engagement: d("2025-10-01"),
        dates_interactions: Some("2025-10-01|2025-10-08".into()),
        auto_prescription: Some(true),
        ..NewFiche::default()
    }
}

#[test]
fn design_2_state_as_known_at_a_cutoff_is_the_latest_fiche_received_by_then() {
    each_backend(|db| {
        let mut c = db.conn();
        let r1 = receipt(db, "r1", "2025-10-02 20:00:00");
        let r2 = receipt(db, "r2", "2025-10-10 20:00:00");
        let r3 = receipt(db, "r3", "2025-10-12 20:00:00");
        let person =
            OperatorPerson::get_or_create(&mut c, "08", "P-001", ts("2025-10-02 20:00:00"))
                .unwrap();
        assert_eq!(
            OperatorPerson::get_or_create(&mut c, "08", "P-001", ts("2025-10-03 20:00:00"))
                .unwrap(),
            person
        );
        let dossier = NewDossier {
            numero_dossier: "A7251001000001",
            lot: "08",
            uo: "01",
            region_lot: "08",
            operator_person_id: person,
        }
        .insert(&mut c)
        .unwrap();
        let (f1, current) = fiche(
            dossier,
            r1,
            "2025-10-02 10:00:00",
            "2025-10-02 20:00:00",
            "CDI",
        )
        .insert(&mut c)
        .unwrap();
        assert!(current);
        let (_f3, current) = fiche(
            dossier,
            r2,
            "2025-10-09 10:00:00",
            "2025-10-10 20:00:00",
            "CDD",
        )
        .insert(&mut c)
        .unwrap();
        assert!(current);
        // Received later but older by horodatage: history only (FICHE_STALE).
        let (_f2, current) = fiche(
            dossier,
            r3,
            "2025-10-05 10:00:00",
            "2025-10-12 20:00:00",
            "INTERIM",
        )
        .insert(&mut c)
        .unwrap();
        assert!(!current);

        let at = |t| {
            Fiche::state_as_of(&mut db.conn(), "A7251001000001", ts(t))
                .unwrap()
                .map(|f| f.statut)
        };
        assert_eq!(at("2025-10-01 00:00:00"), None);
        assert_eq!(at("2025-10-03 00:00:00").as_deref(), Some("CDI"));
        assert_eq!(at("2025-10-11 00:00:00").as_deref(), Some("CDD"));
        assert_eq!(
            at("2025-10-13 00:00:00").as_deref(),
            Some("CDD"),
            "a stale fiche never becomes the state"
        );
        assert_eq!(
            Fiche::current(&mut c, "A7251001000001")
                .unwrap()
                .unwrap()
                .statut,
            "CDD"
        );
        let history: Vec<_> = Fiche::history(&mut c, "A7251001000001")
            .unwrap()
            .into_iter()
            .map(|f| f.statut)
            .collect();
        assert_eq!(history, ["CDI", "INTERIM", "CDD"]);
        let first = &Fiche::history(&mut c, "A7251001000001").unwrap()[0];
        assert_eq!(first.id, f1);
        assert_eq!(
            first.dates_interactions.as_deref(),
            Some("2025-10-01|2025-10-08")
        );
        assert_eq!(first.auto_prescription, Some(true));
        assert_eq!(
            Dossier::find(&mut c, "A7251001000001")
                .unwrap()
                .unwrap()
                .lot,
            "08"
        );

        // Point 12: one fiche per dossier and instant.
        assert!(
            fiche(
                dossier,
                r3,
                "2025-10-09 10:00:00",
                "2025-10-12 20:00:00",
                "AUTRE"
            )
            .insert(&mut c)
            .is_err()
        );
    });
}

#[test]
fn design_6_identity_values_live_apart_and_are_deduplicated() {
    each_backend(|db| {
        let mut c = db.conn();
        let person =
            OperatorPerson::get_or_create(&mut c, "08", "P-002", ts("2025-10-02 20:00:00"))
                .unwrap();
        let ident = NewIdentityRecord {
            id: 0,
            operator_person_id: person,
            identity_hash: "h1".into(),
            nom: Some("Müller-Lefèvre".into()),
            prenom: Some("Zoé".into()),
            date_naissance: Some(d("1985-05-17")),
            first_seen_at: ts("2025-10-02 20:00:00"),
            ..NewIdentityRecord::default()
        };
        let a = ident.record(&mut c).unwrap();
        assert_eq!(ident.record(&mut c).unwrap(), a, "same values, same record");
        let b = NewIdentityRecord {
            id: 0,
            identity_hash: "h2".into(),
            email: Some("zoe@example.org".into()),
            ..ident.clone()
        }
        .record(&mut c)
        .unwrap();
        assert_ne!(a, b);
        let records = IdentityRecord::of_person(&mut c, person).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0].nom.as_deref(),
            Some("Müller-Lefèvre"),
            "UTF-8 stored exactly"
        );
        assert!(
            !format!("{:?}", records[0]).contains("Müller"),
            "Debug never prints personal data"
        );
    });
}

/// Bulk inserts write every row, whatever the number of rows against the size of SQLite's
/// fixed-shape statements (full statements, then the rest one by one), and give the reserved
/// ids in the order of the rows.
#[test]
fn bulk_inserts_write_every_row_in_order_whatever_the_count() {
    use cep_store::models::ingest::{NewPerson, insert_persons, persons_of_lot};
    each_backend(|db| {
        let mut c = db.conn();
        for (lot, n) in [("01", 0usize), ("02", 1), ("03", 64), ("04", 2 * 64 + 5)] {
            let mut rows: Vec<NewPerson> = (0..n)
                .map(|k| NewPerson {
                    id: 0,
                    lot: lot.to_owned(),
                    identifiant_beneficiaire: format!("B{k:05}"),
                    first_seen_at: ts("2025-10-14 18:05:00"),
                })
                .collect();
            let ids = insert_persons(&mut c, &mut rows).unwrap();
            assert_eq!(ids.len(), n, "lot {lot}");
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in row order");
            let identifiants: Vec<String> = rows
                .iter()
                .map(|r| r.identifiant_beneficiaire.clone())
                .collect();
            let mut stored = persons_of_lot(&mut c, lot, &identifiants).unwrap();
            stored.sort();
            let expected: Vec<(String, i64, Option<String>)> = identifiants
                .into_iter()
                .zip(ids)
                .map(|(i, id)| (i, id, None))
                .collect();
            assert_eq!(
                stored, expected,
                "lot {lot}: each row stored once, with its id"
            );
        }
    });
}
