//! JSON bodies (spec §5, point 28) go through the same checks as files.

mod common;

use cep_domain::Lot;
use cep_ingest::{Channel, FeedKind, ProcessingReport, Status, Submission};
use common::*;

fn push(env: &Env, lot: &str, body: &str) -> ProcessingReport {
    env.ingestor
        .ingest_bytes(
            body.as_bytes(),
            &Submission {
                file_name: format!("API_L08_DOSSIERS_{}.json", body.len()),
                lot: Lot::parse(lot).unwrap(),
                channel: Channel::Api,
                received_at: Some("2025-03-12T08:00:00Z".parse().unwrap()),
                json_kind: Some(FeedKind::Dossiers),
            },
        )
        .unwrap()
}

#[test]
fn a_json_body_is_checked_like_a_file_and_numbered_from_zero() {
    on_each(|env| {
        let mut uo21 = fiche("2.1");
        uo21.insert("types_service", "IDENTIFICATION_COMPETENCES|PMSMP".into());
        let bad = {
            let mut f = fiche("01");
            f.insert("statut", "SALARIE".into());
            f
        };
        let mut rec = record(&uo21);
        rec["commentaire"] = "ignored".into();
        rec["nom_usage"] = serde_json::Value::Null;
        let body = serde_json::json!({"lot": "08", "records": [rec, record(&bad)]}).to_string();
        let r = push(env, "08", &body);
        assert_eq!(r.status, Status::Accepted);
        assert_eq!((r.lines, r.accepted, r.quarantined), (2, 1, 1));
        assert_eq!(codes(&r), vec!["FILE_COLUMNS", "REF_CODE"]);
        let refcode = r
            .anomalies
            .iter()
            .find(|a| a.code.as_str() == "REF_CODE")
            .unwrap();
        assert_eq!(refcode.line, Some(1));
    });
}

#[test]
fn a_body_that_is_not_section_5_json_or_of_another_lot_is_rejected_whole() {
    on_each(|env| {
        for body in [
            "not json",
            "[1, 2]",
            r#"{"lot": "08"}"#,
            r#"{"lot": "08", "records": [], "records": []}"#,
        ] {
            let r = push(env, "08", body);
            assert_eq!(
                (r.status, codes(&r)),
                (Status::Rejected, vec!["FILE_FORMAT"]),
                "{body}"
            );
        }
        let body = serde_json::json!({"lot": "09", "records": [record(&fiche("01"))]}).to_string();
        let r = push(env, "08", &body);
        assert_eq!((r.status, codes(&r)), (Status::Rejected, vec!["FILE_NAME"]));
    });
}
