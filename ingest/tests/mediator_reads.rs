//! Every read of a dossier by the médiateur reaches its operator (Annex 2 §3, issue 23.2):
//! in the lot's next processing report whatever its day, or in the daily notice when the lot
//! sends nothing — and only once.

mod common;

use cep_store::models::access::NewAuditEntry;
use common::*;

fn read(env: &Env, numero: &str, at: &str) {
    NewAuditEntry {
        at: at.parse().unwrap(),
        actor: "med".into(),
        role: "mediator".into(),
        action: cep_ingest::pipeline::DOSSIER_ACCESS.into(),
        lot: Some("08".into()),
        target: Some(numero.into()),
        detail: "case 1".into(),
    }
    .append(&mut env.store.conn().unwrap())
    .unwrap();
}

#[test]
fn annex_2_every_mediateur_read_reaches_the_operator_once() {
    on_each(|env| {
        let numero = fiche("01")["numero_dossier"].clone();
        let first = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250311_01.csv",
            &csv(&[fiche("01")]),
            "2025-03-12T08:00:00Z",
        );
        assert!(first.mediator_access_requests.is_empty());
        // Read in the evening, after the lot's last file of the day: the next file, two days
        // later, tells it (it used to reach no report at all).
        read(env, &numero, "2025-03-12T20:30:00");
        let mut f = fiche("01");
        f.insert("horodatage", "2025-03-13T18:00:00+01:00".into());
        let next = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250313_01.csv",
            &csv(&[f.clone()]),
            "2025-03-14T08:00:00Z",
        );
        assert_eq!(next.mediator_access_requests.len(), 1, "{next:?}");
        assert_eq!(next.mediator_access_requests[0].dossier, numero);
        assert_eq!(
            next.mediator_access_requests[0].date,
            "2025-03-12T20:30:00Z"
        );
        // Told once.
        f.insert("horodatage", "2025-03-14T18:00:00+01:00".into());
        let after = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250314_01.csv",
            &csv(&[f.clone()]),
            "2025-03-15T08:00:00Z",
        );
        assert!(after.mediator_access_requests.is_empty());

        // A read, and the lot sends nothing: the daily notice tells it, once.
        read(env, &numero, "2025-03-15T10:00:00");
        let now = "2025-03-15T19:00:00Z".parse().unwrap();
        let notices = env.ingestor.deliver_mediator_reads(now).unwrap();
        assert_eq!(notices.len(), 1);
        let cep_ingest::pipeline::MediatorNotice { path, reads, cases } = &notices[0];
        assert!(cases.is_empty());
        assert_eq!(reads.len(), 1);
        assert!(
            path.ends_with("L08/CEP_L08_ACCES_MEDIATEUR_20250315190000.json"),
            "{path:?}"
        );
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(&numero), "{text}");
        assert!(env.ingestor.deliver_mediator_reads(now).unwrap().is_empty());
        f.insert("horodatage", "2025-03-15T18:00:00+01:00".into());
        let later = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250315_01.csv",
            &csv(&[f]),
            "2025-03-16T08:00:00Z",
        );
        assert!(later.mediator_access_requests.is_empty());

        // A case opened on one of the lot's beneficiaries is told the same way (CCTP 3.7).
        NewAuditEntry {
            at: "2025-03-16T09:00:00".parse().unwrap(),
            actor: "med".into(),
            role: "mediator".into(),
            action: cep_ingest::pipeline::CASE_OPENED.into(),
            lot: Some("08".into()),
            target: Some("7".into()),
            detail: "R-2025-014".into(),
        }
        .append(&mut env.store.conn().unwrap())
        .unwrap();
        let mut f = fiche("01");
        f.insert("horodatage", "2025-03-16T18:00:00+01:00".into());
        let told = env.file_at(
            "08",
            "CEP_L08_DOSSIERS_20250316_01.csv",
            &csv(&[f]),
            "2025-03-17T08:00:00Z",
        );
        assert!(told.mediator_access_requests.is_empty());
        assert_eq!(told.mediation_cases_opened.len(), 1, "{told:?}");
        assert_eq!(told.mediation_cases_opened[0].case, "7");
        assert_eq!(
            told.mediation_cases_opened[0].complaint_reference,
            "R-2025-014"
        );
        assert!(
            told.to_csv()
                .contains("date_saisine_mediateur;saisine;reference_reclamation")
        );
        assert!(
            env.ingestor
                .deliver_mediator_reads("2025-03-17T19:00:00Z".parse().unwrap())
                .unwrap()
                .is_empty()
        );
    });
}
