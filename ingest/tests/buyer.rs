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
                    unchanged: first.rows,
                    warnings: first.warnings.clone(),
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

/// indicators-v1 "Current order" (the latest notified among several) and issue 20: orders of
/// one lot and work unit whose periods overlap are valid and import by default; the overlap is
/// a warning of the import, not a refusal. Operator periods (point 30) still never overlap.
#[test]
fn indicators_current_order_overlapping_orders_import_with_a_warning() {
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
        let o = import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
        // A second order from June, notified before the first is exhausted, overlaps it.
        let second = "2025-Lot08-UO01-02;2025-05-20;50;180.00;0.20;2025-06-01;2025-12-31\n";
        std::fs::write(&p, format!("{header}{second}")).unwrap();
        let o = import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        assert_eq!(o.new, 1);
        assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
        assert!(
            o.warnings[0].contains("2025-Lot08-UO01-01")
                && o.warnings[0].contains("2025-Lot08-UO01-02")
                && o.warnings[0].contains("overlap"),
            "{:?}",
            o.warnings
        );
        // Another work unit is not concerned.
        std::fs::write(
            &p,
            format!(
                "{header}2025-Lot08-UO2.1-01;2025-06-15;50;650.00;0.20;2025-07-01;2025-12-31\n"
            ),
        )
        .unwrap();
        let o = import(&db.store, ImportKind::PurchaseOrders, &p).unwrap();
        assert!(
            o.warnings.iter().all(|w| !w.contains("UO 2.1")),
            "{:?}",
            o.warnings
        );
        // Operator periods of a lot that overlap are still refused (point 30).
        let ops = dir.path().join("operators.csv");
        std::fs::write(
            &ops,
            "lot;code_operateur;nom;date_debut;date_fin\n08;A7;Un;2025-01-01;2025-12-31\n08;B2;Deux;2025-06-01;\n",
        )
        .unwrap();
        match import(&db.store, ImportKind::Operators, &ops) {
            Err(ImportError::Invalid { errors, .. }) => {
                assert!(
                    errors
                        .iter()
                        .any(|e| e.contains("operator periods overlap")),
                    "{errors:?}"
                )
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    });
}
