//! Feed monitoring (Annex 3 §2, issue 23.3) on real receipts: a lot's day of `DOSSIERS`
//! feeds is missing, late or much smaller than usual.

mod common;

use common::*;

fn day_file(env: &Env, day: u32, lines: u32, at_utc: &str) -> cep_ingest::ProcessingReport {
    let fiches: Vec<_> = (1..=lines)
        .map(|i| {
            let mut f = fiche("01");
            f.insert("numero_dossier", format!("A7250301{i:06}"));
            f.insert("identifiant_beneficiaire", format!("P-{i:04}"));
            f.insert("horodatage", format!("2025-03-{day:02}T07:00:00+01:00"));
            f
        })
        .collect();
    env.file_at(
        "08",
        &format!("CEP_L08_DOSSIERS_202503{day:02}_01.csv"),
        &csv(&fiches),
        &format!("2025-03-{day:02}T{at_utc}Z"),
    )
}

#[test]
fn annex_3_missing_late_and_small_daily_feeds_are_detected() {
    on_each(|env| {
        // Eight ordinary days of 10 lines for lot 08, at 09:00 Paris.
        for day in 11..=18 {
            let r = day_file(env, day, 10, "08:00:00");
            assert_eq!(r.status, cep_ingest::Status::Accepted, "{r:?}");
        }
        let mut c = env.store.conn().unwrap();
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let ordinary = cep_ingest::monitor::feeds_of_day(&mut c, d("2025-03-18")).unwrap();
        let l08 = ordinary.iter().find(|l| l.lot == "08").unwrap();
        assert_eq!((l08.feeds, l08.lines, l08.usual_lines), (1, 10, Some(10)));
        assert!(!l08.missing && !l08.late && !l08.small, "{l08:?}");
        // Lots 01 and 19 (in office, see common) sent nothing: missing.
        assert!(ordinary.iter().filter(|l| l.lot != "08").all(|l| l.missing));

        // The 19th: 3 lines at 21:30 Paris — late and much smaller than usual.
        day_file(env, 19, 3, "20:30:00");
        let day = cep_ingest::monitor::feeds_of_day(&mut c, d("2025-03-19")).unwrap();
        let l08 = day.iter().find(|l| l.lot == "08").unwrap();
        assert!(!l08.missing && l08.late && l08.small, "{l08:?}");
        assert_eq!(l08.first_at, Some("2025-03-19T21:30:00".parse().unwrap()));
        // The 20th: nothing from lot 08 either.
        let next = cep_ingest::monitor::feeds_of_day(&mut c, d("2025-03-20")).unwrap();
        assert!(next.iter().find(|l| l.lot == "08").unwrap().missing);
    });
}
