//! Deliverables dropped in `inbox/L{ll}/livrables/` (feed spec point 34, issue 23.1): checked
//! against the SHA-256 of their name, archived, matched with the fiche declaring them, reported
//! to the operator, removed from the inbox; a file arriving before its fiche matches later.

mod common;

use cep_ingest::deliverable::DeliverableStatus;
use cep_store::models::deliverables::{Deliverable, awaited};
use common::*;
use sha2::Digest;
use std::time::Duration;

fn sha(bytes: &[u8]) -> String {
    cep_ingest::dossier::hex(&sha2::Sha256::digest(bytes))
}

#[test]
fn point_34_a_dropped_deliverable_is_checked_archived_matched_and_reported() {
    on_each(|env| {
        let inbox = env.dir.path().join("inbox");
        let livrables = inbox.join("L08").join("livrables");
        std::fs::create_dir_all(&livrables).unwrap();
        let signed = b"%PDF-1.7\n% etat des lieux partage\n".to_vec();
        let h = sha(&signed);
        let numero = fiche("01")["numero_dossier"].clone();
        // The file arrives before the fiche that declares it, a tampered copy beside it and an
        // upload still in progress.
        std::fs::write(livrables.join(format!("{numero}_{h}.pdf")), &signed).unwrap();
        let mut tampered = signed.clone();
        tampered.extend_from_slice(b"%%EOF");
        std::fs::write(
            livrables.join(format!("{numero}_{}.pdf", "0".repeat(64))),
            &tampered,
        )
        .unwrap();
        std::fs::write(livrables.join("en-cours.pdf.part"), b"%PDF-").unwrap();

        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        let mut got: Vec<(String, DeliverableStatus)> = s
            .deliverables
            .iter()
            .map(|d| (d.file_name.clone(), d.status))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                (
                    format!("{numero}_{}.pdf", "0".repeat(64)),
                    DeliverableStatus::Rejected
                ),
                (format!("{numero}_{h}.pdf"), DeliverableStatus::Unmatched),
            ]
        );
        assert_eq!(s.waiting, 1, "the .part upload waits");
        let left: Vec<String> = std::fs::read_dir(&livrables)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["en-cours.pdf.part".to_string()]);
        // Kept as received, and reported in the outbox in French.
        let mut c = env.store.conn().unwrap();
        let kept = Deliverable::list(&mut c, Some("08")).unwrap();
        assert_eq!(kept.len(), 1, "the tampered file is not recorded");
        assert_eq!(std::fs::read(&kept[0].archive_path).unwrap(), signed);
        let report = std::fs::read_to_string(
            env.ingestor
                .outbox()
                .join("L08/livrables")
                .join(format!("{numero}_{}.pdf.rapport.json", "0".repeat(64))),
        )
        .unwrap();
        assert!(report.contains("n'est pas celle du nom"), "{report}");

        // The fiche arrives, declaring the file: nothing awaited. Declaring another file: that
        // one is awaited.
        let mut f = fiche("01");
        f.insert("livrable_sha256", h.clone());
        let l08 = inbox.join("L08");
        std::fs::write(
            l08.join("CEP_L08_DOSSIERS_20250311_01.csv"),
            csv(&[f.clone()]),
        )
        .unwrap();
        env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        assert_eq!(awaited(&mut c, Some("08")).unwrap(), vec![]);
        let other = sha(b"another file");
        f.insert("livrable_sha256", other.clone());
        f.insert("horodatage", "2025-03-12T18:00:00+01:00".into());
        std::fs::write(l08.join("CEP_L08_DOSSIERS_20250312_01.csv"), csv(&[f])).unwrap();
        env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        let waiting = awaited(&mut c, None).unwrap();
        assert_eq!(waiting.len(), 1);
        assert_eq!(
            (
                waiting[0].numero_dossier.as_str(),
                waiting[0].sha256.as_str()
            ),
            (numero.as_str(), other.as_str())
        );

        // The same file dropped again is a duplicate: reported, removed, not kept twice.
        std::fs::write(livrables.join(format!("{numero}_{h}.pdf")), &signed).unwrap();
        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        assert_eq!(s.deliverables[0].status, DeliverableStatus::Duplicate);
        assert_eq!(Deliverable::list(&mut c, Some("08")).unwrap().len(), 1);
    });
}
