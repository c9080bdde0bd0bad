//! The generator's own invariants (before ingestion exists to check the files against the spec).

use cep_domain::deadline::deadline;
use cep_domain::{ConsumptionRef, DossierNumber, Lot, WorkUnit, YearMonth};
use cep_synth::{SynthConfig, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn config() -> SynthConfig {
    SynthConfig::new(42, "2025-01".parse::<YearMonth>().unwrap(), 4, 0.01)
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_byte_identical_output_and_another_seed_does_not() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&config(), a.path()).unwrap();
    generate(&config(), b.path()).unwrap();
    generate(
        &SynthConfig {
            seed: 43,
            ..config()
        },
        c.path(),
    )
    .unwrap();
    let (fa, fb, fc) = (
        all_files(a.path()),
        all_files(b.path()),
        all_files(c.path()),
    );
    assert!(fa.len() > 100, "{} files", fa.len());
    assert!(fa == fb, "same seed, same bytes");
    assert!(fa != fc, "another seed, other data");
}

/// Every parsable DOSSIERS line of the inbox: (lot folder, column → value).
fn dossier_lines(dir: &Path) -> Vec<(String, BTreeMap<String, String>)> {
    let mut out = vec![];
    for (name, bytes) in all_files(&dir.join("inbox")) {
        if !name.contains("_DOSSIERS_") || bytes.is_empty() {
            continue;
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        }; // the Windows-1252 file
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(';').collect();
        let lot = name
            .split('/')
            .next()
            .unwrap()
            .trim_start_matches('L')
            .to_owned();
        for l in lines {
            let cells: Vec<&str> = l.split(';').collect();
            if cells.len() == header.len() {
                out.push((
                    lot.clone(),
                    header
                        .iter()
                        .zip(cells)
                        .map(|(h, c)| (h.to_string(), c.to_string()))
                        .collect(),
                ));
            }
        }
    }
    out
}

#[test]
fn identifiers_well_formed_deadlines_respected_and_uo22_after_its_uo21() {
    let dir = tempfile::tempdir().unwrap();
    generate(&config(), dir.path()).unwrap();
    let truth = std::fs::read_to_string(dir.path().join("truth/anomalies.csv")).unwrap();
    let flagged = |numero: &str, code: &str| truth.contains(&format!(";{numero};{code};"));
    let mut uo21: BTreeMap<String, Option<chrono::NaiveDate>> = BTreeMap::new();
    let mut uo22: Vec<(String, chrono::NaiveDate)> = vec![];
    let mut checked = 0;
    for (lot, c) in dossier_lines(dir.path()) {
        let numero = &c["numero_dossier"];
        let Ok(d) = numero.parse::<DossierNumber>() else {
            assert!(
                flagged(numero, "DOSSIER_FORMAT"),
                "{numero} malformed but not injected"
            );
            continue;
        };
        let uo = WorkUnit::from_column_code(&c["uo"]).unwrap();
        assert_eq!(d.work_unit(), uo, "{numero}");
        let Ok(eng) = c["date_engagement"].parse::<chrono::NaiveDate>() else {
            assert!(
                flagged(numero, "MISSING_VALUE") || flagged(numero, "FIELD_FORMAT"),
                "{numero}"
            );
            continue;
        };
        let r: ConsumptionRef = c["reference_bc"]
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", c["reference_bc"]));
        assert_eq!(
            r.order().lot().to_string(),
            lot,
            "{numero}: order of another lot"
        );
        if !flagged(numero, "BC_MISMATCH") {
            assert_eq!(r.order().work_unit(), uo, "{numero}: order of another UO");
        }
        let cloture = c["date_cloture"].parse::<chrono::NaiveDate>().ok();
        if uo == WorkUnit::Uo21 {
            let voluntary = cloture.filter(|_| c["motif_cloture"] != "ABANDON_DELAI");
            uo21.insert(numero.clone(), voluntary);
        }
        if uo == WorkUnit::Uo22 && !flagged(numero, "UO22_WITHOUT_UO21") {
            uo22.push((c["numero_dossier_uo21"].clone(), eng));
        }
        if let (Some(close), true) = (cloture, matches!(uo, WorkUnit::Uo1 | WorkUnit::Uo21)) {
            let dl = deadline(uo, eng, None).unwrap();
            if close > dl {
                assert!(
                    flagged(numero, "DEADLINE") || flagged(numero, "FUTURE_DATE"),
                    "{numero} closes after its deadline"
                );
            }
            assert!(close >= eng, "{numero}: closure before engagement");
        }
        checked += 1;
    }
    assert!(checked > 1000, "{checked} lines checked");
    let mut followed = 0;
    for (numero21, eng22) in uo22 {
        let Some(closed) = uo21.get(&numero21) else {
            continue;
        };
        let closed = closed
            .unwrap_or_else(|| panic!("UO2.2 continues {numero21}, never closed voluntarily"));
        assert!(
            closed <= eng22,
            "UO2.2 engaged {eng22} before its UO2.1 {numero21} closed {closed}"
        );
        followed += 1;
    }
    assert!(followed > 0, "some UO2.2 were generated");
}

#[test]
fn every_spec_anomaly_kind_is_injected_and_truth_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let s = generate(&config(), dir.path()).unwrap();
    let truth = std::fs::read_to_string(dir.path().join("truth/anomalies.csv")).unwrap();
    let codes: BTreeSet<&str> = truth
        .lines()
        .skip(1)
        .map(|l| l.split(';').nth(3).unwrap())
        .collect();
    for code in [
        "FILE_NAME",
        "FILE_ENCODING",
        "FILE_FORMAT",
        "FILE_COLUMNS",
        "LINE_FORMAT",
        "FIELD_FORMAT",
        "FIELD_TOO_LONG",
        "DATE_ORDER",
        "DEADLINE",
        "UO22_WITHOUT_UO21",
        "INELIGIBLE",
        "FUTURE_DATE",
        "REF_CODE",
        "LIVRABLE_MISSING",
        "BC_UNKNOWN",
        "BC_MISMATCH",
        "BC_DUPLICATE",
        "DECOMPTE_MISSING",
        "HORODATAGE",
        "FICHE_IMMUABLE",
        "DOSSIER_MOIS",
        "REGION_LOT",
        "MISSING_VALUE",
        "FICHE_CONFLICT",
        "FICHE_STALE",
        "DOSSIER_FORMAT",
        "DOSSIER_OPERATOR",
    ] {
        assert!(codes.contains(code), "no {code} injected; got {codes:?}");
    }
    let persons = std::fs::read_to_string(dir.path().join("truth/persons.csv")).unwrap();
    assert_eq!(persons.lines().count() - 1, s.operator_persons);
    assert!(
        s.persons_at_several_lots > 0,
        "some persons are seen by several operators"
    );
    assert!(
        dir.path().join("inbox/L19").exists(),
        "lot 19 took over a region"
    );
    let facts = std::fs::read_to_string(dir.path().join("truth/facts.csv")).unwrap();
    assert!(facts.contains("LOT19_TAKEOVER region 17"));
    for kind in [
        "operators",
        "purchase-orders",
        "surveys",
        "mystery-contacts",
        "deliverable-controls",
        "populations",
    ] {
        let text = std::fs::read_to_string(dir.path().join(format!("buyer/{kind}.csv"))).unwrap();
        assert!(text.lines().count() > 1, "{kind} is empty");
    }
}

#[test]
fn volumes_follow_regional_employment_and_the_lot_filter() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        lots: vec![Lot::parse("01").unwrap(), Lot::parse("16").unwrap()],
        ..config()
    };
    generate(&cfg, dir.path()).unwrap();
    let lines = |lot: &str| {
        all_files(&dir.path().join(format!("inbox/L{lot}")))
            .iter()
            .filter(|(n, _)| n.contains("DOSSIERS"))
            .map(|(_, b)| b.iter().filter(|c| **c == b'\n').count())
            .sum::<usize>()
    };
    let (idf, corse) = (lines("01"), lines("16"));
    assert!(
        !dir.path().join("inbox/L08").exists(),
        "only the selected lots"
    );
    // Île-de-France employs 6,753 thousand people, Corse 142: about 48 times more.
    let ratio = idf as f64 / corse.max(1) as f64;
    assert!(
        ratio > 20.0 && ratio < 100.0,
        "ratio {ratio} ({idf} / {corse})"
    );
}
