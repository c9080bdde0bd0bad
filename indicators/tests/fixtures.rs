//! One hand-built fixture per indicator family: a few dossiers written into a test store, the
//! expected values worked out by hand in the comments and asserted exactly. Each test is named
//! after the rule it checks (indicators-v1 and its resolved points).

mod common;

use cep_indicators::{DrillDown, Part};
use common::{D, Fx};

const OCT_CUTOFF: &str = "2025-11-05T10:00:00";

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn engagements_on_the_current_order_1x_point_1_and_2() {
    let mut f = Fx::sqlite();
    let o1 = "2025-Lot08-UO01-01";
    let o2 = "2025-Lot08-UO01-02";
    let o3 = "2025-Lot08-UO01-03";
    f.order(o1, 10, "2024-12-15", "2025-01-01", "2025-06-30");
    f.order(o2, 4, "2025-06-20", "2025-07-01", "2025-12-31");
    // Notified the same day as -02 and also covering 31 October: the greater reference wins.
    f.order(o3, 6, "2025-06-20", "2025-09-01", "2026-03-31");
    f.order(
        "2025-Lot08-UO00-01",
        100,
        "2024-12-15",
        "2025-01-01",
        "2025-12-31",
    );

    let a = f.dossier(D::new("08", "01", "pa", "2025-09-10").on(o3, 1));
    // Engaged on the month's last day.
    let b = f.dossier(D::new("08", "01", "pb", "2025-10-31").on(o3, 2));
    // Engaged after the month: not yet.
    f.dossier(D::new("08", "01", "pc", "2025-11-01").on(o3, 3));
    // On the other order of the lot: read from reference_bc, never from dates.
    f.dossier(D::new("08", "01", "pd", "2025-10-02").on(o2, 1));
    // Ineligible status.
    f.dossier(D {
        statut: "AUTRE",
        ..D::new("08", "01", "pe", "2025-10-05").on(o3, 4)
    });
    // A job seeker in continuity of an earlier UO1 engagement of the same person (point 10).
    f.dossier(D::new("08", "01", "pf", "2025-03-01").on(o1, 1));
    let fcont = f.dossier(D {
        statut: "DEMANDEUR_EMPLOI",
        ..D::new("08", "01", "pf", "2025-10-06").on(o3, 5)
    });
    // A job seeker with no earlier engagement: not eligible.
    f.dossier(D {
        statut: "DEMANDEUR_EMPLOI",
        ..D::new("08", "01", "pg", "2025-10-07").on(o3, 6)
    });
    // UO0: an ineligible status is open to the person but not in 1.1 (point 10).
    f.dossier(D::new("08", "00", "ph", "2025-10-01").on("2025-Lot08-UO00-01", 1));
    f.dossier(D {
        statut: "AUTRE",
        ..D::new("08", "00", "pi", "2025-10-01").on("2025-Lot08-UO00-01", 2)
    });

    let v = f.compute("2025-10", OCT_CUTOFF);
    // 1.2, lot 08: a, b, fcont on order -03 (quantity 6) → 3 / 6.
    assert_eq!(v.ndv("1.2", "08"), (3, Some(6.0), Some(0.5)));
    // 1.1: one eligible UO0 of 100.
    assert_eq!(v.ndv("1.1", "08"), (1, Some(100.0), Some(0.01)));
    // No current order in lot 01: numerator counted (0), denominator and value null.
    assert_eq!(v.ndv("1.2", "01"), (0, None, None));
    // National: the lots that have both, i.e. lot 08 alone.
    assert_eq!(v.ndv("1.2", "national"), (3, Some(6.0), Some(0.5)));
    // In September -02 is current alone (-03 starts 1 September too, same notification,
    // greater reference: -03 again).
    let sept = f.compute("2025-09", OCT_CUTOFF);
    assert_eq!(sept.ndv("1.2", "08").1, Some(6.0));
    // In June, -01 (the March dossier of pf).
    let june = f.compute("2025-06", OCT_CUTOFF);
    assert_eq!(june.ndv("1.2", "08"), (1, Some(10.0), Some(0.1)));

    let p = f.prepared(OCT_CUTOFF);
    let period = "2025-10".parse().unwrap();
    let mut expected = vec![a, b, fcont];
    expected.sort();
    assert_eq!(
        p.drill_down(period, "1.2", "08", "", Part::Numerator)
            .unwrap(),
        DrillDown::Items(expected)
    );
    assert!(matches!(
        p.drill_down(period, "1.2", "08", "", Part::Denominator)
            .unwrap(),
        DrillDown::External(_)
    ));
}

#[test]
fn billable_closures_4x_5x_exhausted_order_point_15() {
    let mut f = Fx::sqlite();
    let o = "2025-Lot03-UO01-01";
    f.order(o, 2, "2024-12-01", "2025-01-01", "2025-12-31");
    // Notified after October: not in 5.2's October denominator.
    f.order(
        "2025-Lot03-UO01-02",
        5,
        "2025-11-15",
        "2025-11-15",
        "2026-06-30",
    );
    // Served in closure order: s (5 Sept) has no deliverable and consumes nothing; p and q
    // consume the two units; r comes third: BC_EXHAUSTED.
    let p = f.dossier(
        D::new("03", "01", "p", "2025-08-01")
            .closed("2025-09-10")
            .on(o, 1),
    );
    let q = f.dossier(
        D::new("03", "01", "q", "2025-08-02")
            .closed("2025-09-20")
            .on(o, 2),
    );
    f.dossier(
        D::new("03", "01", "r", "2025-08-03")
            .closed("2025-09-25")
            .on(o, 3),
    );
    f.dossier(D {
        livrable: false,
        ..D::new("03", "01", "s", "2025-08-04")
            .closed("2025-09-05")
            .on(o, 4)
    });
    // Open past its deadline (1 August): an abandonment, not billable by default.
    f.dossier(D::new("03", "01", "t", "2025-06-01").on(o, 5));
    // Closed after its deadline (1 September) even with a deliverable: an abandonment on the
    // deadline (point 15).
    f.dossier(
        D::new("03", "01", "u", "2025-07-01")
            .closed("2025-09-15")
            .on(o, 6),
    );

    let v = f.compute("2025-10", OCT_CUTOFF);
    assert_eq!(v.ndv("4.2", "03"), (2, Some(2.0), Some(1.0)));
    assert_eq!(v.ndv("5.2", "03"), (2, Some(2.0), Some(1.0)));
    // In August nothing was closed yet.
    let aug = f.compute("2025-08", OCT_CUTOFF);
    assert_eq!(aug.ndv("4.2", "03"), (0, Some(2.0), Some(0.0)));
    // In November the second order is notified: 5.2 = 2 / 7; 4.2's current order is -02
    // (latest notified covering 30 November), which nobody consumes.
    let nov = f.compute("2025-11", "2025-12-05T10:00:00");
    assert_eq!(nov.ndv("5.2", "03").0, 2);
    assert_eq!(nov.ndv("5.2", "03").1, Some(7.0));
    assert_eq!(nov.ndv("4.2", "03"), (0, Some(5.0), Some(0.0)));

    let prepared = f.prepared(OCT_CUTOFF);
    let mut expected = vec![p, q];
    expected.sort();
    assert_eq!(
        prepared
            .drill_down("2025-10".parse().unwrap(), "4.2", "03", "", Part::Numerator)
            .unwrap(),
        DrillDown::Items(expected)
    );
}

#[test]
fn persons_by_region_2x_lot_19_serves_a_region_point_3_4_5() {
    let mut f = Fx::sqlite();
    // Île-de-France (region 01): 2024 figures, and a 2025 row without a target population
    // (the target falls back to 2024, point 4).
    f.population("01", 2024, "total", "", Some(1000), Some(500));
    f.population("01", 2025, "total", "", Some(1200), None);
    f.population("01", 2024, "categorie_sociale", "3", None, Some(100));
    // UO0 persons in 2025 in region 01: P1 twice (one person), P2 through lot 19.
    f.dossier(D::new("01", "00", "P1", "2025-02-01"));
    f.dossier(D::new("01", "00", "P1", "2025-03-01"));
    f.dossier(D {
        region: Some("01"),
        ..D::new("19", "00", "P2", "2025-05-01")
    });
    // Engaged the year before: outside the span.
    f.dossier(D::new("01", "00", "P3", "2024-12-31"));
    // P4: UO1 in region 01 (category 3), then UO2.1 in region 02 (category 4, later fiche).
    f.dossier(D {
        categorie: Some("3"),
        horodatage: "2025-04-01T09:00:00",
        ..D::new("01", "01", "P4", "2025-04-01")
    });
    f.dossier(D {
        categorie: Some("4"),
        horodatage: "2025-06-01T09:00:00",
        ..D::new("02", "2.1", "P4", "2025-06-01")
    });
    // P5: UO2.1 through lot 19 for region 01, ineligible status (2.x has no eligibility
    // filter), category 6.
    f.dossier(D {
        region: Some("01"),
        statut: "AUTRE",
        categorie: Some("6"),
        ..D::new("19", "2.1", "P5", "2025-09-01")
    });
    // Last year's UO1 in region 01, for 3.
    f.dossier(D::new("01", "01", "P6", "2024-05-01"));

    let v = f.compute("2025-10", OCT_CUTOFF);
    // 2.1 region 01: P1, P2 → 2 / 1200 (2025's active population).
    assert_eq!(v.ndv("2.1", "01"), (2, Some(1200.0), Some(2.0 / 1200.0)));
    // No row 19 for 2.x and 3 (point 3).
    assert!(
        !v.0.iter()
            .any(|x| x.lot == "19" && (x.code.starts_with("2.") || x.code == "3"))
    );
    // 2.2 region 01: P4, P5 → 2 / 500 (2024's target); region 02: P4 → 1, target unknown.
    assert_eq!(v.ndv("2.2", "01"), (2, Some(500.0), Some(0.004)));
    assert_eq!(v.ndv("2.2", "02"), (1, None, None));
    // National: distinct persons P4, P5; populations unknown for most regions → null.
    assert_eq!(v.ndv("2.2", "national"), (2, None, None));
    // 2.3 region 01: P4 is category 3 there (its only region-01 fiche): rate 1 / 100;
    // P5 is category 6, whose population is unknown: share 1 / 2.
    let c3 = v.cat("2.3", "01", "3");
    assert_eq!((c3.numerator, c3.denominator), (1, Some(100.0)));
    assert!(close(c3.value, 0.01));
    let c6 = v.cat("2.3", "01", "6");
    assert_eq!(
        (c6.numerator, c6.denominator, c6.value),
        (1, Some(2.0), Some(0.5))
    );
    // Nationally P4's latest fiche is the region-02 one: category 4.
    assert_eq!(v.cat("2.3", "national", "4").numerator, 1);
    assert_eq!(v.cat("2.3", "national", "3").numerator, 0);
    assert_eq!(v.cat("2.3", "national", "4").value, Some(0.5));
    // 2.4 by status: CDI for P4, AUTRE for P5 in region 01.
    assert_eq!(v.cat("2.4", "01", "CDI").numerator, 1);
    assert_eq!(v.cat("2.4", "01", "AUTRE").numerator, 1);
    // 3 region 01: P4's UO1 and P5's UO2.1 this year against P6's last year: 2 / 1 − 1 = 1.
    assert_eq!(v.ndv("3", "01"), (2, Some(1.0), Some(1.0)));
    // Region 02: nothing last year → null (point 6).
    assert_eq!(v.ndv("3", "02"), (1, Some(0.0), None));
}

#[test]
fn closures_delays_and_abandonments_6x_month_end_deadlines_point_7_12_15() {
    let mut f = Fx::sqlite();
    // UO2.1 closed in October.
    f.dossier(D {
        prestations: Some("FORMATION|VAE"),
        ..D::new("02", "2.1", "v1", "2025-06-15").closed("2025-10-10")
    }); // 117 days
    let v2 = f.dossier(D {
        prestations: Some("AUCUNE"),
        ..D::new("02", "2.1", "v2", "2025-08-01").closed("2025-10-20")
    }); // 80 days
    // Engaged 30 April: deadline 30 October; still open at the cut-off → abandoned on
    // 30 October (counts as closed for 6.1, point 12, and in 6.6).
    f.dossier(D::new("02", "2.1", "v3", "2025-04-30"));
    // Closed on the deadline day: voluntary (point 15), 183 days.
    f.dossier(D::new("02", "2.1", "v4", "2025-04-30").closed("2025-10-30"));
    // UO2.2 of v2's UO2.1, closed in October after 20 days.
    f.dossier(D {
        uo21: Some(v2.clone()),
        ..D::new("02", "2.2", "v2", "2025-10-01").closed("2025-10-21")
    });
    // UO1: engaged 31 August → deadline 31 October, open → abandoned on 31 October.
    f.dossier(D::new("02", "01", "w1", "2025-08-31"));
    // Engaged 30 August (deadline 30 October), closed on 2 November: abandonment on 30 October.
    f.dossier(D::new("02", "01", "w2", "2025-08-30").closed("2025-11-02"));
    // Declared abandonment on 15 October: dated on its deadline, 1 November.
    f.dossier(D {
        motif: Some("ABANDON_DELAI"),
        livrable: false,
        ..D::new("02", "01", "w4", "2025-09-01").closed("2025-10-15")
    });
    // Deadline 5 November = the cut-off's date: not passed yet.
    f.dossier(D::new("02", "01", "w5", "2025-09-05"));
    // Voluntary UO1 closures in October: 30 and 40 days.
    f.dossier(D::new("02", "01", "w6", "2025-09-01").closed("2025-10-01"));
    f.dossier(D::new("02", "01", "w7", "2025-09-01").closed("2025-10-11"));
    // Engaged 31 December: deadline 28 February 2026 (clamped).
    f.dossier(D::new("02", "01", "w3", "2025-12-31"));

    let v = f.compute("2025-10", OCT_CUTOFF);
    // 6.1: v1, v2, v3, v4, the UO2.2 closed in October; v1 alone has a complementary service.
    assert_eq!(v.ndv("6.1", "02"), (1, Some(5.0), Some(0.2)));
    // 6.3: voluntary UO2.1 closures: 117 + 80 + 183 = 380 days over 3; median 117.
    let x = v.get("6.3", "02");
    assert_eq!(
        (x.numerator, x.denominator, x.median),
        (380, Some(3.0), Some(117.0))
    );
    assert!(close(x.value, 380.0 / 3.0));
    // 6.2: 30 and 40 days: mean 35, median of an even count = mean of the middle two.
    let x = v.get("6.2", "02");
    assert_eq!(
        (x.numerator, x.denominator, x.value, x.median),
        (70, Some(2.0), Some(35.0), Some(35.0))
    );
    // 6.4: 20 days.
    assert_eq!(v.get("6.4", "02").median, Some(20.0));
    assert_eq!(v.ndv("6.4", "02"), (20, Some(1.0), Some(20.0)));
    // 6.5: w1 and w2 (deadlines 31 and 30 October); w4's deadline is in November.
    assert_eq!(v.ndv("6.5", "02"), (2, None, Some(2.0)));
    // 6.6: v3.
    assert_eq!(v.ndv("6.6", "02"), (1, None, Some(1.0)));
    // November: w4 (declared, deadline 1 November); w5 only once its deadline has passed.
    assert_eq!(f.compute("2025-11", OCT_CUTOFF).ndv("6.5", "02").0, 1);
    assert_eq!(
        f.compute("2025-11", "2025-11-06T10:00:00")
            .ndv("6.5", "02")
            .0,
        2
    );
    // February 2026: w3's clamped deadline.
    assert_eq!(
        f.compute("2026-02", "2026-03-05T10:00:00")
            .ndv("6.5", "02")
            .0,
        1
    );
}

#[test]
fn returns_after_second_level_support_6_8_point_8() {
    let mut f = Fx::sqlite();
    // Closures in July (October − 3), lot 04.
    f.dossier(D::new("04", "2.1", "A", "2025-03-01").closed("2025-07-10"));
    // A new UO1 at another operator within three months.
    f.dossier(D::new("05", "01", "A", "2025-09-01"));
    // B: a new UO2.1 one day too late (closure + 3 months = 20 October).
    f.dossier(D::new("04", "2.1", "B", "2025-03-01").closed("2025-07-20"));
    f.dossier(D::new("04", "2.1", "B", "2025-10-21"));
    // C: closed 31 July; a new UO2.2 never counts.
    let c21 = f.dossier(D::new("04", "2.1", "C", "2025-03-01").closed("2025-07-31"));
    f.dossier(D {
        uo21: Some(c21),
        ..D::new("04", "2.2", "C", "2025-08-15")
    });
    // D: a new engagement on the closure day is not after it.
    f.dossier(D::new("04", "2.1", "D", "2025-03-01").closed("2025-07-05"));
    f.dossier(D::new("04", "01", "D", "2025-07-05"));
    // E: two closures in July, counted once; one is followed by a UO1.
    f.dossier(D::new("04", "2.1", "E", "2025-03-01").closed("2025-07-02"));
    f.dossier(D::new("04", "2.1", "E", "2025-03-02").closed("2025-07-03"));
    f.dossier(D::new("04", "01", "E", "2025-08-01"));

    let v = f.compute("2025-10", OCT_CUTOFF);
    // Denominator A, B, C, D, E = 5; numerator A, E = 2.
    assert_eq!(v.ndv("6.8", "04"), (2, Some(5.0), Some(0.4)));
    assert_eq!(v.ndv("6.8", "national"), (2, Some(5.0), Some(0.4)));
    assert_eq!(v.ndv("6.8", "05"), (0, Some(0.0), None));
}

#[test]
fn closures_per_fte_7x_latest_means_line_point_16() {
    let mut f = Fx::sqlite();
    let o = "2025-Lot06-UO2.1-01";
    f.order(o, 10, "2024-12-01", "2025-01-01", "2025-12-31");
    // Deadlines: 1 December 2025 for a and b, 1 January 2026 for c (closed 31 December).
    for (n, (p, engaged, closed)) in [
        ("a", "2025-06-01", "2025-07-10"),
        ("b", "2025-06-01", "2025-09-01"),
        ("c", "2025-07-01", "2025-12-31"),
    ]
    .into_iter()
    .enumerate()
    {
        f.dossier(
            D::new("06", "2.1", p, engaged)
                .closed(closed)
                .on(o, n as u32 + 1),
        );
    }
    // Closed in S1: not in S2.
    f.dossier(
        D::new("06", "2.1", "d", "2025-03-01")
            .closed("2025-06-30")
            .on(o, 4),
    );
    f.means("06", "2025-S2", [100, 100, 250, 100], "2025-07-10T00:00:00");
    // A correction received after the cut-off is not seen.
    f.means("06", "2025-S2", [100, 100, 300, 100], "2026-01-20T00:00:00");
    // FTE 0 gives no value.
    f.means("07", "2025-S2", [100, 100, 0, 100], "2025-07-10T00:00:00");

    let v = f.compute("2025-S2", "2026-01-15T10:00:00");
    assert_eq!(v.ndv("7.3", "06"), (3, Some(2.5), Some(1.2)));
    assert_eq!(v.ndv("7.3", "07"), (0, None, None));
    assert_eq!(v.ndv("7.3", "national"), (3, Some(2.5), Some(1.2)));
    let later = f.compute("2025-S2", "2026-01-25T10:00:00");
    assert_eq!(later.ndv("7.3", "06").1, Some(3.0));
    // Point 16 (issue 20): a half-year no lot has declared its means for yet still has its
    // national rows — numerator 0 (a sum over no lot), no denominator, no value.
    let next = f.compute("2026-S1", "2026-01-25T10:00:00");
    for code in ["7.1", "7.2", "7.3", "7.4"] {
        assert_eq!(next.ndv(code, "national"), (0, None, None), "{code}");
    }
}

/// Indicators-v1's table for 5.x read literally (issue 20): the denominator is the sum of the
/// quantities of the lot's orders notified by the end of the month — 0 when none is, so the
/// denominator is 0 and the value null, never an empty denominator.
#[test]
fn indicators_5_x_denominator_is_a_sum_and_0_when_no_order_is_notified_yet() {
    let mut f = Fx::sqlite();
    // The current order of October, notified only in November.
    let o = "2025-Lot03-UO01-01";
    f.order(o, 4, "2025-11-05", "2025-01-01", "2025-12-31");
    f.dossier(
        D::new("03", "01", "p", "2025-08-01")
            .closed("2025-09-10")
            .on(o, 1),
    );
    let v = f.compute("2025-10", OCT_CUTOFF);
    assert_eq!(v.ndv("5.2", "03"), (1, Some(0.0), None));
    // A lot and UO without any order: 0 too.
    assert_eq!(v.ndv("5.3", "03"), (0, Some(0.0), None));
    // 4.2 has its current order (covering 31 October): the rule of point 2 is for 1.x and 4.x.
    assert_eq!(v.ndv("4.2", "03"), (1, Some(4.0), Some(0.25)));
}

#[test]
fn quality_measures_8_1_8_3_8_5_8_7_survey_outside_the_half_year_point_13_14() {
    let mut f = Fx::sqlite();
    let d: Vec<String> = (0..5)
        .map(|_| f.dossier(D::new("09", "2.1", "s", "2025-01-10")))
        .collect();
    f.survey(&d[0], "2025-02-01", true, true);
    f.survey(&d[1], "2025-03-01", true, true);
    f.survey(&d[2], "2025-04-01", true, false);
    f.survey(&d[3], "2025-05-01", false, true);
    // Outside the half-year.
    f.survey(&d[4], "2025-07-02", true, true);
    // A dossier nobody knows: no lot, not counted.
    f.survey("Z1250101000001", "2025-02-01", true, true);
    f.mystery("09", "2025-01-15", 1, true);
    f.mystery("09", "2025-02-15", 1, true);
    f.mystery("09", "2025-03-15", 1, false);
    f.mystery("09", "2025-07-15", 1, false);
    f.control(&d[0], "2025-03-03", true);
    f.control(&d[1], "2025-03-04", false);
    // Complaints: c1 mediated (case on its dossier opened after reception); c2's case was
    // opened before the complaint; c3's case after the cut-off; c4 received in S2.
    f.complaint(
        "09",
        "c1",
        Some(&d[0]),
        "x1",
        "2025-04-01",
        "2025-04-02T00:00:00",
    );
    f.case("09", Some(&d[0]), None, "2025-05-01T09:00:00");
    f.complaint("09", "c2", None, "x2", "2025-03-10", "2025-03-11T00:00:00");
    f.case("09", None, Some("x2"), "2025-03-01T09:00:00");
    f.complaint("09", "c3", None, "x3", "2025-06-20", "2025-06-21T00:00:00");
    f.case("09", None, Some("x3"), "2025-07-20T09:00:00");
    f.complaint("09", "c4", None, "x4", "2025-07-01", "2025-07-02T00:00:00");

    let v = f.compute("2025-S1", "2025-07-15T10:00:00");
    let s = v.get("8.1", "09");
    assert_eq!(
        (s.numerator, s.denominator, s.value),
        (2, Some(4.0), Some(0.5))
    );
    // Wilson lower bound, z = 1.959964, k = 2, n = 4, worked out here.
    let (z, n, p) = (1.959964f64, 4.0f64, 0.5f64);
    let wilson = (p + z * z / (2.0 * n) - z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt())
        / (1.0 + z * z / n);
    assert!(
        close(s.wilson_lower, wilson),
        "{:?} vs {wilson}",
        s.wilson_lower
    );
    assert!((wilson - 0.150039).abs() < 1e-6);
    assert_eq!(v.ndv("8.3", "09"), (2, Some(3.0), Some(2.0 / 3.0)));
    assert_eq!(v.ndv("8.5", "09"), (1, Some(2.0), Some(0.5)));
    let c = v.ndv("8.7", "09");
    assert_eq!((c.0, c.1), (1, Some(3.0)));
    // Seen later, c3's case counts.
    assert_eq!(
        f.compute("2025-S1", "2025-08-01T10:00:00")
            .ndv("8.7", "09")
            .0,
        2
    );
}

#[test]
fn service_types_and_auto_prescription_8_2_8_6_point_12() {
    let mut f = Fx::sqlite();
    f.dossier(D {
        types_service: Some("PMSMP|ANALYSE_C2P"),
        prestations: Some("FORMATION"),
        auto_prescription: Some(true),
        ..D::new("10", "2.1", "y1", "2025-05-01").closed("2025-08-01")
    });
    f.dossier(D {
        types_service: Some("PMSMP"),
        prestations: Some("AUCUNE"),
        ..D::new("10", "2.1", "y2", "2025-05-01").closed("2025-09-01")
    });
    // Closed in S1: out.
    f.dossier(D {
        types_service: Some("PMSMP"),
        ..D::new("10", "2.1", "y3", "2025-01-01").closed("2025-06-30")
    });
    // Abandoned in S2 (deadline 1 September): closed for 8.2 and 8.6.
    f.dossier(D {
        types_service: Some("ANALYSE_C2P"),
        prestations: Some("VAE"),
        auto_prescription: Some(false),
        ..D::new("10", "2.1", "y4", "2025-03-01")
    });
    let v = f.compute("2025-S2", "2026-01-15T10:00:00");
    let t = |c: &str| {
        let x = v.cat("8.2", "10", c);
        (x.numerator, x.denominator)
    };
    assert_eq!(t("PMSMP"), (2, Some(3.0)));
    assert_eq!(t("ANALYSE_C2P"), (2, Some(3.0)));
    assert_eq!(t("CREATION_ENTREPRISE"), (0, Some(3.0)));
    assert_eq!(v.ndv("8.6", "10"), (1, Some(2.0), Some(0.5)));
}

#[test]
fn first_appointment_delay_8_4_regional_holidays_point_11() {
    let mut f = Fx::sqlite();
    let d = |lot, p, cp: Option<&'static str>, rdv, first| D {
        rdv: Some(rdv),
        interactions: Some(first),
        postal_code: cp,
        ..D::new(lot, "01", p, "2025-01-02")
    };
    // Thursday 17 April → Tuesday 22 April 2025: Friday 18 (Good Friday) and Tuesday 22 in
    // metropolitan France (Easter Monday off) = 2; Alsace-Moselle also has Good Friday = 1.
    f.dossier(d(
        "05",
        "am",
        Some("67000"),
        "2025-04-17",
        "2025-04-22|2025-05-02",
    ));
    f.dossier(d("05", "marne", Some("51100"), "2025-04-17", "2025-04-22"));
    // 2 January → 3 March: 1 + 20 + 20 + 1 = 42 working days, over 30.
    f.dossier(d("05", "late", None, "2025-01-02", "2025-03-03"));
    // No request date: not in the denominator.
    f.dossier(D {
        interactions: Some("2025-03-03"),
        ..D::new("05", "01", "norq", "2025-01-02")
    });
    // First interaction in S2: out.
    f.dossier(d("05", "s2", None, "2025-06-20", "2025-07-01"));
    // Lot 19 serving Guyane (region 17): Friday 6 → Wednesday 11 June 2025: Whit Monday 9 and
    // 10 June (abolition of slavery in Guyane) off → 1.
    f.dossier(D {
        region: Some("17"),
        ..d("19", "gy", None, "2025-06-06", "2025-06-11")
    });

    let v = f.compute("2025-S1", "2025-07-15T10:00:00");
    let x = v.get("8.4", "05");
    assert_eq!((x.numerator, x.denominator), (2, Some(3.0)));
    assert_eq!(x.median, Some(2.0));
    assert!(close(x.mean, 45.0 / 3.0), "{:?}", x.mean);
    let g = v.get("8.4", "19");
    assert_eq!(
        (g.numerator, g.denominator, g.median),
        (1, Some(1.0), Some(1.0))
    );
}
