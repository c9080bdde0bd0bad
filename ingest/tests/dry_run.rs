//! Validation only (recette, issue 23.3): an operator tests a file before depositing it. Same
//! checks and the same report as a receipt, and nothing kept.

mod common;

use cep_ingest::{Channel, Status, Submission};
use cep_store::models::receipts::Receipt;
use common::*;
use sha2::Digest;

fn sub(name: &str) -> Submission {
    Submission {
        file_name: name.to_owned(),
        lot: cep_domain::Lot::parse("08").unwrap(),
        channel: Channel::Cli,
        received_at: Some("2025-03-12T08:00:00Z".parse().unwrap()),
        json_kind: None,
    }
}

#[test]
fn annex_3_a_file_validated_before_deposit_gets_its_report_and_leaves_nothing() {
    on_each(|env| {
        let mut bad = fiche("01");
        bad.insert("sexe", "3".into());
        let content = csv(&[fiche("01"), bad]);
        let name = "CEP_L08_DOSSIERS_20250311_01.csv";
        let checked = env.ingestor.check_bytes(&content, &sub(name)).unwrap();
        assert_eq!(checked.status, Status::Accepted);
        assert_eq!(
            (checked.lines, checked.accepted, checked.quarantined),
            (2, 1, 1)
        );

        // Nothing kept: no receipt, no dossier, nothing archived or delivered.
        let mut c = env.store.conn().unwrap();
        let sha = cep_ingest::dossier::hex(&sha2::Sha256::digest(&content));
        assert_eq!(Receipt::find_by_sha256(&mut c, &sha).unwrap(), None);
        let numero = fiche("01")["numero_dossier"].clone();
        assert!(
            cep_store::models::ingest::dossiers_by_numero(&mut c, &[numero])
                .unwrap()
                .is_empty()
        );
        let archived: Vec<_> = walk(&env.dir.path().join("archive"));
        assert!(archived.is_empty(), "{archived:?}");
        assert!(!env.ingestor.outbox().join("L08").exists());

        // The real deposit then gives the same report.
        let real = env.file("08", name, &content);
        assert_eq!(
            (
                real.status,
                real.lines,
                real.accepted,
                real.quarantined,
                real.warnings
            ),
            (
                checked.status,
                checked.lines,
                checked.accepted,
                checked.quarantined,
                checked.warnings
            )
        );
        let codes = |r: &cep_ingest::ProcessingReport| {
            r.anomalies
                .iter()
                .map(|a| (a.line, a.code.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(&real), codes(&checked));

        // Checked again once deposited: a duplicate, as a second deposit would be.
        let again = env.ingestor.check_bytes(&content, &sub(name)).unwrap();
        assert_eq!(again.status, Status::Duplicate);

        // A file that would be rejected whole says so, and still leaves nothing.
        let other = csv(&[fiche("00")]);
        let wrong = env
            .ingestor
            .check_bytes(&other, &sub("CEP_L09_DOSSIERS_20250311_01.csv"))
            .unwrap();
        assert_eq!(wrong.status, Status::Rejected);
        let sha = cep_ingest::dossier::hex(&sha2::Sha256::digest(&other));
        assert_eq!(Receipt::find_by_sha256(&mut c, &sha).unwrap(), None);
    });
}

fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}
