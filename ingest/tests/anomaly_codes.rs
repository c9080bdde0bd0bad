//! Every anomaly code of spec §7 is produced by a fixture that triggers it — and the fixture
//! produces nothing else — while a valid fiche of each UO produces none. Each test runs on
//! SQLite and on PostgreSQL.

mod common;

use cep_domain::nir::Nir;
use cep_ingest::{AnomalyCode, Severity, Status};
use common::*;
use std::collections::BTreeMap;

type Fiche = BTreeMap<&'static str, String>;

fn set(mut f: Fiche, k: &'static str, v: &str) -> Fiche {
    if v.is_empty() {
        f.remove(k);
    } else {
        f.insert(k, v.to_owned());
    }
    f
}

/// Ingests the lines in one file of lot 08 and checks the exact codes found.
fn expect_codes(lines: &[Fiche], expected: &[&str]) {
    on_each(|env| {
        let r = env.dossiers("08", &csv(lines));
        assert_eq!(codes(&r), expected, "{:#?}", r.anomalies);
        for a in &r.anomalies {
            assert!(!a.message.is_empty() && a.line.is_some());
        }
    });
}

#[test]
fn valid_fiches_of_every_uo_produce_no_anomaly() {
    on_each(|env| {
        let uo21 = closed(fiche("2.1"), "2025-03-10");
        let mut uo22 = fiche("2.2");
        uo22.insert("numero_dossier_uo21", "A7250321000001".into());
        let mut uo1 = fiche("01");
        uo1.insert("numero_dossier", "A7250301000009".into());
        let r = env.dossiers("08", &csv(&[fiche("00"), uo1, uo21, uo22]));
        assert_eq!(r.status, Status::Accepted);
        assert_eq!(r.anomalies, vec![], "{:#?}", r.anomalies);
        assert_eq!((r.lines, r.accepted, r.quarantined), (4, 4, 0));
    });
}

#[test]
fn file_name_rejects_a_stray_name_or_another_lots_file() {
    on_each(|env| {
        let r = env.file("08", "dossiers-mars.csv", &csv(&[fiche("01")]));
        assert_eq!((r.status, codes(&r)), (Status::Rejected, vec!["FILE_NAME"]));
        let r = env.file(
            "08",
            "CEP_L09_DOSSIERS_20250311_01.csv",
            &csv(&[fiche("00")]),
        );
        assert_eq!((r.status, codes(&r)), (Status::Rejected, vec!["FILE_NAME"]));
        assert_eq!(r.accepted, 0);
    });
}

#[test]
fn file_encoding_reads_windows_1252_with_a_warning() {
    on_each(|env| {
        let mut bytes = csv(&[set(fiche("01"), "nom", "HELENE")]);
        let at = bytes.windows(6).position(|w| w == b"HELENE").unwrap();
        bytes[at + 1] = 0xC9; // É in Windows-1252
        let r = env.dossiers("08", &bytes);
        assert_eq!(
            (r.status, codes(&r)),
            (Status::Accepted, vec!["FILE_ENCODING"])
        );
        assert_eq!(r.accepted, 1);
    });
}

#[test]
fn file_format_rejects_empty_binary_and_utf16_files() {
    on_each(|env| {
        for content in [
            b"".to_vec(),
            b"horodatage;\x00\x01".to_vec(),
            b"\xFF\xFEh\x00o\x00".to_vec(),
        ] {
            let r = env.dossiers("08", &content);
            assert_eq!(
                (r.status, codes(&r)),
                (Status::Rejected, vec!["FILE_FORMAT"])
            );
        }
        // A header alone is a valid file that carries nothing (§7.1).
        let r = env.dossiers("08", &csv(&[]));
        assert_eq!(
            (r.status, r.lines, codes(&r)),
            (Status::Accepted, 0, vec![])
        );
    });
}

#[test]
fn file_columns_rejects_a_missing_column_and_warns_on_an_unknown_one() {
    on_each(|env| {
        let text = String::from_utf8(csv(&[fiche("01")])).unwrap();
        let missing = text.replacen("statut;", "statu;", 1);
        let r = env.dossiers("08", missing.as_bytes());
        assert_eq!(
            (r.status, codes(&r)),
            (Status::Rejected, vec!["FILE_COLUMNS"])
        );
        assert!(r.anomalies.iter().any(|a| a.severity == Severity::Blocking));
        let extra = text.replacen('\n', ";note\n", 2);
        let r = env.dossiers("08", extra.as_bytes());
        assert_eq!(
            (r.status, codes(&r), r.accepted),
            (Status::Accepted, vec!["FILE_COLUMNS"], 1)
        );
        // A wrong delimiter leaves one unknown column and every required one missing.
        let commas = text.replace(';', ",");
        let r = env.dossiers("08", commas.as_bytes());
        assert_eq!(r.status, Status::Rejected);
    });
}

#[test]
fn line_format_quarantines_a_bare_quote_or_a_wrong_field_count_only() {
    on_each(|env| {
        let text = String::from_utf8(csv(&[fiche("01")])).unwrap();
        let good = text.lines().nth(1).unwrap().to_owned();
        let bad_quote = good.replacen("SITE-01", "SITE\"01", 1);
        let short = good.rsplitn(3, ';').nth(2).unwrap().to_owned();
        let other = good.replace("A7250301000001", "A7250301000002");
        let body = format!("{HEADER}\n{bad_quote}\n{short}\n{other}\n");
        let r = env.dossiers("08", body.as_bytes());
        assert_eq!(codes(&r), vec!["LINE_FORMAT", "LINE_FORMAT"]);
        assert_eq!((r.lines, r.accepted, r.quarantined), (3, 1, 2));
        assert_eq!(r.anomalies[0].line, Some(2));
        assert_eq!(r.anomalies[0].dossier.as_deref(), Some("A7250301000001"));
    });
}

#[test]
fn field_format_blocks_a_mandatory_field_and_drops_an_optional_one() {
    expect_codes(
        &[set(fiche("01"), "date_engagement", "2025-02-30")],
        &["FIELD_FORMAT"],
    );
    on_each(|env| {
        let r = env.dossiers(
            "08",
            &csv(&[set(fiche("01"), "date_demande_rdv", "03/03/2025")]),
        );
        assert_eq!((codes(&r), r.accepted), (vec!["FIELD_FORMAT"], 1));
        assert_eq!(r.anomalies[0].severity, Severity::Warning);
    });
}

#[test]
fn field_too_long_quarantines_a_mandatory_value_over_200_characters() {
    expect_codes(
        &[set(fiche("01"), "libelle_profession", &"x".repeat(201))],
        &["FIELD_TOO_LONG"],
    );
}

#[test]
fn missing_value_for_a_mandatory_column() {
    expect_codes(&[set(fiche("01"), "statut", "")], &["MISSING_VALUE"]);
    expect_codes(
        &[set(fiche("2.1"), "types_service", "")],
        &["MISSING_VALUE"],
    );
}

#[test]
fn ref_code_for_a_code_outside_its_table() {
    expect_codes(&[set(fiche("01"), "statut", "SALARIE")], &["REF_CODE"]);
}

#[test]
fn dossier_format_for_a_malformed_number_or_a_uo_mismatch() {
    expect_codes(
        &[set(fiche("01"), "numero_dossier", "A7251301000001")],
        &["DOSSIER_FORMAT"],
    );
    expect_codes(&[set(fiche("01"), "uo", "2.1")], &["DOSSIER_FORMAT"]);
}

#[test]
fn dossier_operator_for_another_operators_code() {
    expect_codes(
        &[set(fiche("01"), "numero_dossier", "IF250301000001")],
        &["DOSSIER_OPERATOR"],
    );
}

#[test]
fn dossier_mois_when_the_number_month_is_not_the_engagement_month() {
    let f = set(
        set(fiche("01"), "numero_dossier", "A7250201000001"),
        "dates_interactions",
        "2025-03-10",
    );
    expect_codes(&[f], &["DOSSIER_MOIS"]);
}

#[test]
fn region_lot_differing_from_a_regional_file_lot() {
    expect_codes(&[set(fiche("01"), "region_lot", "09")], &["REGION_LOT"]);
}

#[test]
fn nir_key_and_nir_mismatch_are_warnings() {
    let good = Nir::with_key("2850469123456").unwrap().as_str().to_owned();
    let mut wrong_key = good.clone();
    let last = if wrong_key.ends_with('0') { '1' } else { '0' };
    wrong_key.pop();
    wrong_key.push(last);
    expect_codes(&[set(fiche("01"), "nir", &good)], &[]);
    expect_codes(&[set(fiche("01"), "nir", &wrong_key)], &["NIR_KEY"]);
    let man = Nir::with_key("1850469123456").unwrap().as_str().to_owned();
    expect_codes(&[set(fiche("01"), "nir", &man)], &["NIR_MISMATCH"]);
}

#[test]
fn date_order_for_a_closure_before_engagement_or_an_interaction_outside() {
    let f = closed(fiche("01"), "2025-03-09");
    expect_codes(
        &[set(f, "dates_interactions", "2025-03-09")],
        &["DATE_ORDER", "DATE_ORDER"],
    );
    expect_codes(
        &[set(fiche("01"), "dates_interactions", "2025-03-01")],
        &["DATE_ORDER"],
    );
}

#[test]
fn deadline_for_a_uo1_closed_after_two_months() {
    let f = closed(
        set(
            set(fiche("01"), "date_engagement", "2025-01-05"),
            "numero_dossier",
            "A7250101000001",
        ),
        "2025-03-10",
    );
    expect_codes(&[f], &["DEADLINE"]);
}

#[test]
fn future_date_after_the_fiches_own_day() {
    expect_codes(&[closed(fiche("01"), "2025-03-20")], &["FUTURE_DATE"]);
}

#[test]
fn horodatage_before_the_agreement_or_after_reception() {
    expect_codes(
        &[set(fiche("01"), "horodatage", "2019-11-30T10:00:00+01:00")],
        &["FUTURE_DATE", "FUTURE_DATE", "HORODATAGE"],
    );
    expect_codes(
        &[set(fiche("01"), "horodatage", "2025-03-13T10:00:00+01:00")],
        &["HORODATAGE"],
    );
}

#[test]
fn fiche_conflict_same_instant_other_content() {
    let a = fiche("01");
    let b = set(fiche("01"), "structure", "SITE-02");
    expect_codes(&[a.clone(), a.clone(), b], &["FICHE_CONFLICT"]);
}

#[test]
fn fiche_stale_for_an_older_fiche_kept_in_history() {
    let newer = set(fiche("01"), "horodatage", "2025-03-11T19:00:00+01:00");
    expect_codes(&[newer, fiche("01")], &["FICHE_STALE"]);
}

#[test]
fn fiche_immuable_for_a_changed_person_id() {
    let later = set(
        set(fiche("01"), "horodatage", "2025-03-11T19:00:00+01:00"),
        "identifiant_beneficiaire",
        "P-0002",
    );
    expect_codes(&[fiche("01"), later], &["FICHE_IMMUABLE"]);
}

#[test]
fn uo22_without_uo21_unknown_or_not_closed_voluntarily() {
    let mut f = fiche("2.2");
    f.insert("numero_dossier_uo21", "A7250321000099".into());
    expect_codes(&[f.clone()], &["UO22_WITHOUT_UO21"]);
    let open21 = fiche("2.1");
    f.insert("numero_dossier_uo21", "A7250321000001".into());
    expect_codes(&[open21, f], &["UO22_WITHOUT_UO21"]);
}

#[test]
fn ineligible_status_is_a_warning_on_uo1_and_uo0() {
    expect_codes(
        &[set(fiche("01"), "statut", "AGENT_PUBLIC")],
        &["INELIGIBLE"],
    );
    expect_codes(
        &[set(fiche("00"), "statut", "AGENT_PUBLIC")],
        &["INELIGIBLE"],
    );
    // A job-seeker is eligible only in continuity of an earlier engagement.
    expect_codes(
        &[set(fiche("01"), "statut", "DEMANDEUR_EMPLOI")],
        &["INELIGIBLE"],
    );
    let later = set(
        set(fiche("01"), "horodatage", "2025-03-11T19:00:00+01:00"),
        "statut",
        "DEMANDEUR_EMPLOI",
    );
    expect_codes(&[fiche("01"), later], &[]);
}

#[test]
fn concurrent_cep_once_persons_are_linked() {
    on_each(|env| {
        let mut other = set(fiche("01"), "numero_dossier", "IF250301000001");
        other.insert("region_lot", "01".into());
        other.insert("reference_bc", "2025-Lot01-UO01-01-00001".into());
        other.insert("date_engagement", "2025-03-01".into());
        other.insert("dates_interactions", "2025-03-01".into());
        let r = env.file("01", "CEP_L01_DOSSIERS_20250311_01.csv", &csv(&[other]));
        assert_eq!(codes(&r), Vec::<&str>::new());
        let r = env.dossiers("08", &csv(&[fiche("00")]));
        assert_eq!(codes(&r), Vec::<&str>::new());
        // Before linking, nothing ties the two operators' beneficiaries together.
        let uo1 = set(fiche("01"), "numero_dossier", "A7250301000003");
        let r = env.dossiers(
            "08",
            &csv(&[set(uo1, "reference_bc", "2025-Lot08-UO01-01-00003")]),
        );
        assert_eq!(codes(&r), Vec::<&str>::new());
        // Identity resolution (`cep link`) finds them to be one person.
        let s = cep_link::run::run(&env.store, cep_link::Mode::Full, &Default::default()).unwrap();
        assert_eq!(s.persons_several_lots, Some(1));
        let uo1 = set(fiche("01"), "numero_dossier", "A7250301000002");
        let r = env.dossiers(
            "08",
            &csv(&[set(uo1, "reference_bc", "2025-Lot08-UO01-01-00002")]),
        );
        assert_eq!(codes(&r), vec!["CONCURRENT_CEP"]);
    });
}

#[test]
fn livrable_missing_for_a_voluntary_closure_without_deliverable() {
    let f = set(
        set(
            closed(fiche("01"), "2025-03-10"),
            "motif_cloture",
            "SOUHAIT_CLORE",
        ),
        "livrable_sha256",
        "",
    );
    expect_codes(&[f], &["LIVRABLE_MISSING"]);
}

#[test]
fn bc_unknown_mismatch_and_duplicate() {
    expect_codes(
        &[set(fiche("01"), "reference_bc", "2025-Lot08-UO01-97-00001")],
        &["BC_UNKNOWN"],
    );
    expect_codes(
        &[set(fiche("01"), "reference_bc", "2025-Lot08-UO00-01-00001")],
        &["BC_MISMATCH"],
    );
    let second = set(fiche("01"), "numero_dossier", "A7250301000002");
    expect_codes(&[fiche("01"), second], &["BC_DUPLICATE"]);
}

#[test]
fn decompte_missing_for_a_closed_unit_without_statement_number() {
    expect_codes(
        &[set(
            closed(fiche("01"), "2025-03-10"),
            "numero_decompte",
            "",
        )],
        &["DECOMPTE_MISSING"],
    );
}

#[test]
fn every_code_of_the_spec_has_a_fixture_in_this_file() {
    let me = include_str!("anomaly_codes.rs");
    for code in AnomalyCode::ALL {
        let lower = code.as_str().to_lowercase();
        assert!(
            me.contains(&format!("fn {lower}")) || me.contains(&format!("\"{}\"", code.as_str())),
            "{code} has no fixture"
        );
    }
}
