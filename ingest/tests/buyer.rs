//! Buyer-side imports (spec §9, point 30): every kind of the generated dataset imports;
//! re-importing changes nothing; a changed row is an amendment kept in history; any invalid
//! row rejects the whole import, listing every error.

use cep_domain::YearMonth;
use cep_ingest::buyer::{ImportError, ImportKind, ImportOutcome, import};
use cep_store::testing::each_backend;
use diesel::prelude::*;

const KINDS: [ImportKind; 6] = [
    ImportKind::Operators,
    ImportKind::PurchaseOrders,
    ImportKind::Surveys,
    ImportKind::MysteryContacts,
    ImportKind::DeliverableControls,
    ImportKind::Populations,
];

#[test]
fn every_buyer_side_kind_imports_and_reimports_as_unchanged() {
    let data = tempfile::tempdir().unwrap();
    let config = cep_synth::SynthConfig::new(3, YearMonth::new(2025, 1).unwrap(), 4, 0.01);
    cep_synth::generate(&config, data.path()).unwrap();
    each_backend(|db| {
        for kind in KINDS {
            let path = data
                .path()
                .join("buyer")
                .join(format!("{}.csv", kind.as_str()));
            let first = import(&db.store, kind, &path).unwrap();
            assert!(
                first.rows > 0 && first.new == first.rows,
                "{kind:?}: {first:?}"
            );
            let again = import(&db.store, kind, &path).unwrap();
            assert_eq!(
                again,
                ImportOutcome {
                    rows: first.rows,
                    new: 0,
                    amended: 0,
                    unchanged: first.rows
                },
                "{kind:?}"
            );
        }
    });
}

#[test]
fn an_amended_row_is_kept_in_history_and_an_invalid_file_records_nothing() {
    each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("surveys.csv");
        std::fs::write(
            &p,
            "numero_dossier;uo;date_reponse;qualite;utilite\nA7250301000001;01;2025-04-02;O;N\n",
        )
        .unwrap();
        import(&db.store, ImportKind::Surveys, &p).unwrap();
        std::fs::write(
            &p,
            "numero_dossier;uo;date_reponse;qualite;utilite\nA7250301000001;01;2025-04-02;O;O\n",
        )
        .unwrap();
        let o = import(&db.store, ImportKind::Surveys, &p).unwrap();
        assert_eq!((o.new, o.amended), (0, 1));
        use cep_store::schema::survey_answers as s;
        let mut c = db.conn();
        let rows: Vec<(bool, Option<chrono::NaiveDateTime>)> = s::table
            .order(s::id)
            .select((s::utilite, s::superseded_at))
            .load(&mut c)
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert!(!rows[0].0 && rows[0].1.is_some());
        assert!(rows[1].0 && rows[1].1.is_none());

        std::fs::write(
            &p,
            "numero_dossier;uo;date_reponse;qualite;utilite\nA7250301000002;01;2025-04-02;O;O\nA7250301000003;3;2025-04-02;O;O\nA7250301000004;01;2025-04-31;O;O\n",
        )
        .unwrap();
        match import(&db.store, ImportKind::Surveys, &p) {
            Err(ImportError::Invalid { errors, .. }) => {
                assert_eq!(errors.len(), 3, "{errors:?}");
                assert!(
                    errors[0].starts_with("line 3:")
                        && errors.last().unwrap().starts_with("line 4:")
                );
            }
            other => panic!("expected a rejected import, got {other:?}"),
        }
        let n: i64 = s::table.count().get_result(&mut c).unwrap();
        assert_eq!(n, 2, "nothing of the invalid file was recorded");
    });
}

/// Issue 7: a lot's orders of one work unit never overlap in time without an explicit choice;
/// ending the earlier order (an amendment in the same file) makes room for the next one.
#[test]
fn overlapping_orders_are_refused_unless_the_earlier_one_ends_or_overlap_is_allowed() {
    each_backend(|db| {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("orders.csv");
        let header =
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n";
        std::fs::write(
            &p,
            format!(
                "{header}2025-Lot08-UO01-01;2024-12-15;100;180.00;0.20;2025-01-01;2025-12-31\n"
            ),
        )
        .unwrap();
        import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        // A second order from July overlaps the first, which runs to December.
        let second = "2025-Lot08-UO01-02;2025-06-15;50;180.00;0.20;2025-07-01;2025-12-31\n";
        std::fs::write(&p, format!("{header}{second}")).unwrap();
        match import(&db.store, ImportKind::PurchaseOrders, &p) {
            Err(ImportError::Invalid { errors, .. }) => {
                assert_eq!(errors.len(), 1, "{errors:?}");
                assert!(errors[0].contains("2025-Lot08-UO01-01") && errors[0].contains("overlap"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another work unit, or another lot, is not concerned.
        std::fs::write(
            &p,
            format!(
                "{header}2025-Lot08-UO2.1-01;2025-06-15;50;650.00;0.20;2025-07-01;2025-12-31\n"
            ),
        )
        .unwrap();
        import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        // Ending the first order in June, in the same file, makes room.
        std::fs::write(
            &p,
            format!(
                "{header}2025-Lot08-UO01-01;2024-12-15;100;180.00;0.20;2025-01-01;2025-06-30\n{second}"
            ),
        )
        .unwrap();
        let o = import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        assert_eq!((o.new, o.amended), (1, 1));
        // An explicit choice accepts an overlap.
        std::fs::write(
            &p,
            format!("{header}2025-Lot08-UO01-03;2025-08-01;10;180.00;0.20;2025-08-01;2025-09-30\n"),
        )
        .unwrap();
        assert!(import(&db.store, ImportKind::PurchaseOrders, &p).is_err());
        let o = cep_ingest::buyer::import_with(
            &db.store,
            ImportKind::PurchaseOrders,
            &p,
            cep_ingest::buyer::ImportOptions {
                allow_overlap: true,
            },
        )
        .unwrap();
        assert_eq!(o.new, 1);
    });
}
