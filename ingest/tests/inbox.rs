//! The inbox sweep (spec §1, point 27): new files are processed once, by lot, and leave the
//! inbox; uploads in progress wait.

mod common;

use cep_ingest::Status;
use common::*;
use std::time::Duration;

#[test]
fn a_sweep_processes_each_settled_file_once_and_empties_the_inbox() {
    on_each(|env| {
        let inbox = env.dir.path().join("inbox");
        let l08 = inbox.join("L08");
        std::fs::create_dir_all(&l08).unwrap();
        std::fs::create_dir_all(inbox.join("not-a-lot")).unwrap();
        std::fs::write(
            l08.join("CEP_L08_DOSSIERS_20250310_01.csv"),
            csv(&[fiche("01")]),
        )
        .unwrap();
        std::fs::write(
            l08.join("CEP_L08_DOSSIERS_20250310_02.csv.part"),
            csv(&[fiche("00")]),
        )
        .unwrap();
        std::fs::write(l08.join("notes.txt"), "pas un flux").unwrap();

        // Everything was just written: with a 60 s settle time nothing is taken yet.
        let s = env
            .ingestor
            .sweep_inbox(&inbox, Duration::from_secs(60))
            .unwrap();
        assert_eq!((s.reports.len(), s.waiting), (0, 3));

        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        let got: Vec<(String, Status)> = s
            .reports
            .iter()
            .map(|r| (r.file.clone(), r.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("CEP_L08_DOSSIERS_20250310_01.csv".into(), Status::Accepted),
                ("notes.txt".into(), Status::Rejected),
            ]
        );
        assert_eq!(s.waiting, 1);
        let left: Vec<String> = std::fs::read_dir(&l08)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            left,
            vec!["CEP_L08_DOSSIERS_20250310_02.csv.part".to_string()]
        );
        assert!(
            env.ingestor
                .outbox()
                .join("L08")
                .read_dir()
                .unwrap()
                .count()
                >= 4
        );

        // Renamed when complete, it is taken by the next sweep; the first is not taken again.
        std::fs::rename(
            l08.join("CEP_L08_DOSSIERS_20250310_02.csv.part"),
            l08.join("CEP_L08_DOSSIERS_20250310_02.csv"),
        )
        .unwrap();
        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        assert_eq!(s.reports.len(), 1);
        assert_eq!(s.reports[0].accepted, 1);
        assert_eq!(std::fs::read_dir(&l08).unwrap().count(), 0);
    });
}

#[test]
fn a_report_that_could_not_be_written_is_written_when_the_file_comes_again() {
    on_each(|env| {
        let inbox = env.dir.path().join("inbox");
        let l08 = inbox.join("L08");
        std::fs::create_dir_all(&l08).unwrap();
        let name = "CEP_L08_DOSSIERS_20250310_01.csv";
        std::fs::write(l08.join(name), csv(&[fiche("01")])).unwrap();
        // The lot's report folder cannot be made (as on a full disk): the file is processed
        // and committed, its report is not written, and the file stays in the inbox.
        let outbox = env.ingestor.outbox().to_path_buf();
        std::fs::create_dir_all(&outbox).unwrap();
        std::fs::write(outbox.join("L08"), "in the way").unwrap();
        let err = env
            .ingestor
            .sweep_inbox(&inbox, Duration::ZERO)
            .unwrap_err();
        assert!(err.to_string().contains("outbox"), "{err}");
        assert!(l08.join(name).exists());

        // Once it can be written, the next sweep writes the original report, not a duplicate's.
        std::fs::remove_file(outbox.join("L08")).unwrap();
        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        assert_eq!(s.reports.len(), 1);
        assert_eq!(s.reports[0].status, Status::Accepted);
        assert_eq!(s.reports[0].accepted, 1);
        assert!(s.reports[0].is_in_outbox(&outbox));
        assert!(!l08.join(name).exists());
        let names: Vec<String> = std::fs::read_dir(outbox.join("L08"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(names.iter().all(|n| !n.contains("doublon")), "{names:?}");
        // A real re-send of the same content afterwards is a duplicate, as before.
        std::fs::write(l08.join(name), csv(&[fiche("01")])).unwrap();
        let s = env.ingestor.sweep_inbox(&inbox, Duration::ZERO).unwrap();
        assert_eq!(s.reports[0].status, Status::Duplicate);
    });
}
