//! Deadlines, automatic abandonment and effective closure of a work unit (CCTP 1.2.5–2.1;
//! indicators-v1 "Deadline" and "Effective closure"; feed spec points 20 and 22).
//!
//! - UO0 closes on its engagement day and is never abandoned;
//! - UO1: engagement + 2 months; UO2.1: engagement + 6 months; UO2.2: engagement of **its
//!   UO2.1** + 18 months;
//! - "+ n months" keeps the day of month, clamped to the last day of the target month
//!   (31 August + 6 months = 28 or 29 February);
//! - a unit not closed by its deadline is closed automatically as abandoned on the deadline;
//!   a closure on the deadline day is on time; a closure after it is an abandonment dated on
//!   the deadline, even with a signed deliverable; `ABANDON_DELAI` is an abandonment dated on
//!   the deadline whatever `date_cloture` says.

use crate::work_unit::WorkUnit;
use chrono::{Datelike, NaiveDate};

/// `date` plus `months` calendar months, the day kept and clamped to the end of the target month.
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .expect("date within chrono's range")
}

/// Months from engagement to deadline for UO1 and UO2.1, and from the UO2.1's engagement for UO2.2.
pub const fn deadline_months(uo: WorkUnit) -> u32 {
    match uo {
        WorkUnit::Uo0 => 0,
        WorkUnit::Uo1 => 2,
        WorkUnit::Uo21 => 6,
        WorkUnit::Uo22 => 18,
    }
}

/// The deadline of a unit engaged on `engagement`. A UO2.2's deadline runs from the engagement
/// of the UO2.1 it continues: `None` while that UO2.1 is unknown.
pub fn deadline(
    uo: WorkUnit,
    engagement: NaiveDate,
    uo21_engagement: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match uo {
        WorkUnit::Uo0 => Some(engagement),
        WorkUnit::Uo1 | WorkUnit::Uo21 => Some(add_months(engagement, deadline_months(uo))),
        WorkUnit::Uo22 => uo21_engagement.map(|e| add_months(e, deadline_months(uo))),
    }
}

/// The `motif_cloture` reference codes (spec §8, point 22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClosureMotif {
    /// Signed deliverable (UO1: état des lieux partagé; UO2.1: projet professionnel).
    LivrableSigne,
    /// Written wish to close.
    SouhaitClore,
    /// Abandonment at the deadline.
    AbandonDelai,
    Reorientation,
    ChangementOperateur,
}

impl ClosureMotif {
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "LIVRABLE_SIGNE" => Self::LivrableSigne,
            "SOUHAIT_CLORE" => Self::SouhaitClore,
            "ABANDON_DELAI" => Self::AbandonDelai,
            "REORIENTATION" => Self::Reorientation,
            "CHANGEMENT_OPERATEUR" => Self::ChangementOperateur,
            _ => return None,
        })
    }
    pub const fn code(self) -> &'static str {
        match self {
            Self::LivrableSigne => "LIVRABLE_SIGNE",
            Self::SouhaitClore => "SOUHAIT_CLORE",
            Self::AbandonDelai => "ABANDON_DELAI",
            Self::Reorientation => "REORIENTATION",
            Self::ChangementOperateur => "CHANGEMENT_OPERATEUR",
        }
    }
    /// Every motif but `ABANDON_DELAI` is a voluntary closure (point 22).
    pub const fn is_voluntary(self) -> bool {
        !matches!(self, Self::AbandonDelai)
    }
}

/// How a unit was effectively closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClosureKind {
    Voluntary,
    /// Closed automatically at the deadline (or declared `ABANDON_DELAI`), dated on the deadline.
    Abandonment,
}

/// The effective closure of a unit: its date and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Closure {
    pub date: NaiveDate,
    pub kind: ClosureKind,
}

/// What is known of a unit to decide its effective closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitDates {
    pub uo: WorkUnit,
    pub engagement: NaiveDate,
    /// The deadline, from [`deadline`]; `None` for a UO2.2 whose UO2.1 is unknown.
    pub deadline: Option<NaiveDate>,
    pub date_cloture: Option<NaiveDate>,
    pub motif: Option<ClosureMotif>,
}

impl UnitDates {
    /// A unit as a fiche states it: the deadline from the engagement (a UO2.2's from its
    /// UO2.1's engagement, when known) and the `motif_cloture` code read.
    pub fn of_fiche(
        uo: WorkUnit,
        engagement: NaiveDate,
        uo21_engagement: Option<NaiveDate>,
        date_cloture: Option<NaiveDate>,
        motif_cloture: Option<&str>,
    ) -> UnitDates {
        UnitDates {
            uo,
            engagement,
            deadline: deadline(uo, engagement, uo21_engagement),
            date_cloture,
            motif: motif_cloture.and_then(ClosureMotif::from_code),
        }
    }

    /// The effective closure as known on `today` (the cut-off's date in Europe/Paris), or
    /// `None` while the unit is open. A deadline is passed when it is strictly before `today`.
    ///
    /// A UO2.2 whose UO2.1 is unknown has no deadline: its declared closure is taken as it is
    /// (voluntary unless `ABANDON_DELAI`), and it is never abandoned automatically.
    pub fn effective_closure(&self, today: NaiveDate) -> Option<Closure> {
        use ClosureKind::*;
        if self.uo == WorkUnit::Uo0 {
            return Some(Closure {
                date: self.engagement,
                kind: Voluntary,
            });
        }
        let declared_abandon = self.motif == Some(ClosureMotif::AbandonDelai);
        let Some(deadline) = self.deadline else {
            let kind = if declared_abandon {
                Abandonment
            } else {
                Voluntary
            };
            return self.date_cloture.map(|date| Closure { date, kind });
        };
        if declared_abandon {
            return Some(Closure {
                date: deadline,
                kind: Abandonment,
            });
        }
        match self.date_cloture {
            Some(c) if c <= deadline => Some(Closure {
                date: c,
                kind: Voluntary,
            }),
            Some(_) => Some(Closure {
                date: deadline,
                kind: Abandonment,
            }),
            None if deadline < today => Some(Closure {
                date: deadline,
                kind: Abandonment,
            }),
            None => None,
        }
    }
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Day of month kept or clamped: true when `add_months` had to clamp.
pub fn is_clamped(date: NaiveDate, months: u32) -> bool {
    add_months(date, months).day() != date.day()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClosureKind::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn cctp_deadlines_uo1_two_months_uo21_six_uo22_eighteen_from_its_uo21() {
        assert_eq!(
            deadline(WorkUnit::Uo0, d("2025-03-10"), None),
            Some(d("2025-03-10"))
        );
        assert_eq!(
            deadline(WorkUnit::Uo1, d("2025-03-10"), None),
            Some(d("2025-05-10"))
        );
        assert_eq!(
            deadline(WorkUnit::Uo21, d("2025-03-10"), None),
            Some(d("2025-09-10"))
        );
        // UO2.2's deadline runs from its UO2.1's engagement, not its own.
        assert_eq!(
            deadline(WorkUnit::Uo22, d("2025-09-01"), Some(d("2025-03-10"))),
            Some(d("2026-09-10"))
        );
        assert_eq!(deadline(WorkUnit::Uo22, d("2025-09-01"), None), None);
    }

    #[test]
    fn month_end_clamping_31_august_plus_6_months_is_end_of_february() {
        assert_eq!(add_months(d("2025-08-31"), 6), d("2026-02-28"));
        assert_eq!(add_months(d("2023-08-31"), 6), d("2024-02-29"));
        assert_eq!(add_months(d("2025-12-31"), 2), d("2026-02-28"));
        assert_eq!(add_months(d("2025-01-31"), 2), d("2025-03-31"));
        assert!(is_clamped(d("2025-08-31"), 6));
        assert!(!is_clamped(d("2025-08-28"), 6));
    }

    fn unit(uo: WorkUnit, eng: &str, cloture: Option<&str>, motif: Option<&str>) -> UnitDates {
        let engagement = d(eng);
        UnitDates {
            uo,
            engagement,
            deadline: deadline(uo, engagement, None),
            date_cloture: cloture.map(d),
            motif: motif.and_then(ClosureMotif::from_code),
        }
    }

    #[test]
    fn uo0_closes_on_its_engagement_day_and_is_never_abandoned() {
        let u = unit(
            WorkUnit::Uo0,
            "2025-03-10",
            Some("2025-04-01"),
            Some("ABANDON_DELAI"),
        );
        assert_eq!(
            u.effective_closure(d("2025-03-10")),
            Some(Closure {
                date: d("2025-03-10"),
                kind: Voluntary
            })
        );
    }

    #[test]
    fn closure_on_the_deadline_day_is_voluntary_and_after_it_an_abandonment() {
        let on_time = unit(
            WorkUnit::Uo1,
            "2025-03-10",
            Some("2025-05-10"),
            Some("LIVRABLE_SIGNE"),
        );
        assert_eq!(
            on_time.effective_closure(d("2025-06-01")),
            Some(Closure {
                date: d("2025-05-10"),
                kind: Voluntary
            })
        );
        let late = unit(
            WorkUnit::Uo1,
            "2025-03-10",
            Some("2025-05-11"),
            Some("LIVRABLE_SIGNE"),
        );
        assert_eq!(
            late.effective_closure(d("2025-06-01")),
            Some(Closure {
                date: d("2025-05-10"),
                kind: Abandonment
            })
        );
    }

    #[test]
    fn open_unit_is_abandoned_once_its_deadline_is_strictly_before_the_cutoff_date() {
        let open = unit(WorkUnit::Uo21, "2025-08-31", None, None);
        assert_eq!(open.deadline, Some(d("2026-02-28")));
        assert_eq!(
            open.effective_closure(d("2026-02-28")),
            None,
            "deadline day itself: still open"
        );
        assert_eq!(
            open.effective_closure(d("2026-03-01")),
            Some(Closure {
                date: d("2026-02-28"),
                kind: Abandonment
            })
        );
    }

    #[test]
    fn point_22_abandon_delai_is_dated_on_the_deadline_whatever_date_cloture_says() {
        let u = unit(
            WorkUnit::Uo1,
            "2025-03-10",
            Some("2025-04-01"),
            Some("ABANDON_DELAI"),
        );
        assert_eq!(
            u.effective_closure(d("2025-04-02")),
            Some(Closure {
                date: d("2025-05-10"),
                kind: Abandonment
            })
        );
        assert!(!ClosureMotif::AbandonDelai.is_voluntary());
        assert!(ClosureMotif::ChangementOperateur.is_voluntary());
    }

    proptest! {
        #[test]
        fn add_months_keeps_or_clamps_the_day(y in 2000i32..2100, m in 1u32..=12, day in 1u32..=31, n in 0u32..=24) {
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, day) {
                let r = add_months(date, n);
                let months = (r.year() - y) * 12 + r.month() as i32 - m as i32;
                prop_assert_eq!(months, n as i32);
                prop_assert!(r.day() == day || (r.day() < day && r.succ_opt().unwrap().day() == 1));
            }
        }

        #[test]
        fn effective_closure_never_after_the_deadline(day in 0i64..400, close in proptest::option::of(0i64..400), cutoff in 0i64..800) {
            let base = d("2024-01-01");
            let eng = base + chrono::Duration::days(day);
            let u = UnitDates {
                uo: WorkUnit::Uo21,
                engagement: eng,
                deadline: deadline(WorkUnit::Uo21, eng, None),
                date_cloture: close.map(|c| eng + chrono::Duration::days(c)),
                motif: close.map(|_| ClosureMotif::LivrableSigne),
            };
            if let Some(c) = u.effective_closure(base + chrono::Duration::days(cutoff)) {
                prop_assert!(c.date <= u.deadline.unwrap());
                prop_assert!(c.date >= eng);
            }
        }
    }
}
