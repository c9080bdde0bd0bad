//! Complaints and the médiateur (CCTP 3.7; indicators-v1 8.7 and point 13).

use crate::Lot;
use chrono::NaiveDate;

/// What identifies a complaint received by an operator (feed-format §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintRef<'a> {
    pub lot: Lot,
    pub numero_dossier: Option<&'a str>,
    pub identifiant_beneficiaire: &'a str,
    pub received: NaiveDate,
}

/// What identifies a mediation case opened through the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseRef<'a> {
    pub lot: Lot,
    pub numero_dossier: Option<&'a str>,
    pub identifiant_beneficiaire: Option<&'a str>,
    /// The day it was opened (Europe/Paris).
    pub opened: NaiveDate,
}

/// Indicators-v1 point 13: a mediation case covers (is the escalation of) a complaint when it
/// names the same dossier or the same operator person of the same lot, and was opened on or
/// after the complaint's reception and by `today` (the cut-off's date).
pub fn escalates(case: &CaseRef<'_>, complaint: &ComplaintRef<'_>, today: NaiveDate) -> bool {
    let names_it = case.lot == complaint.lot
        && (case.numero_dossier.is_some() && case.numero_dossier == complaint.numero_dossier
            || case.identifiant_beneficiaire == Some(complaint.identifiant_beneficiaire));
    names_it && case.opened >= complaint.received && case.opened <= today
}

/// Days an operator has to acknowledge a written complaint (CCTP 3.7).
pub const ACKNOWLEDGMENT_DAYS: i64 = 7;
/// Days an operator has to answer a written complaint (CCTP 3.7).
pub const ANSWER_DAYS: i64 = 45;

/// Where a complaint stands against one of its deadlines (CCTP 3.7), calendar days from its
/// reception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Done by the deadline.
    Met { on: NaiveDate },
    /// Done, after the deadline.
    MetLate { on: NaiveDate, days_late: i64 },
    /// Not done yet, the deadline not passed.
    Pending { due: NaiveDate },
    /// Not done, the deadline passed ("open past deadline").
    Overdue { due: NaiveDate, days_over: i64 },
}

impl Deadline {
    /// `done` (if any) against `received + days`, as known on `today`.
    pub fn of(received: NaiveDate, done: Option<NaiveDate>, days: i64, today: NaiveDate) -> Self {
        let due = received + chrono::Duration::days(days);
        match done {
            Some(on) if on <= due => Deadline::Met { on },
            Some(on) => Deadline::MetLate {
                on,
                days_late: (on - due).num_days(),
            },
            None if today <= due => Deadline::Pending { due },
            None => Deadline::Overdue {
                due,
                days_over: (today - due).num_days(),
            },
        }
    }

    /// Missed: done late, or not done and past due.
    pub fn missed(self) -> bool {
        matches!(self, Deadline::MetLate { .. } | Deadline::Overdue { .. })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Deadline::Met { .. } => "met",
            Deadline::MetLate { .. } => "late",
            Deadline::Pending { .. } => "pending",
            Deadline::Overdue { .. } => "overdue",
        }
    }
}

/// A written complaint's two deadlines (CCTP 3.7): acknowledged within
/// [`ACKNOWLEDGMENT_DAYS`], answered within [`ANSWER_DAYS`]. An answer given before any
/// acknowledgment acknowledges it too (the beneficiary has heard back): decision written in
/// `docs/operateurs.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComplaintDeadlines {
    pub acknowledgment: Deadline,
    pub answer: Deadline,
}

impl ComplaintDeadlines {
    pub fn of(
        received: NaiveDate,
        acknowledged: Option<NaiveDate>,
        answered: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        let first_reply = match (acknowledged, answered) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        ComplaintDeadlines {
            acknowledgment: Deadline::of(received, first_reply, ACKNOWLEDGMENT_DAYS, today),
            answer: Deadline::of(received, answered, ANSWER_DAYS, today),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cctp_3_7_a_complaint_is_acknowledged_within_7_days_and_answered_within_45() {
        let r = d("2025-03-10");
        let on_time = ComplaintDeadlines::of(
            r,
            Some(d("2025-03-17")),
            Some(d("2025-04-24")),
            d("2025-06-01"),
        );
        assert_eq!(
            on_time.acknowledgment,
            Deadline::Met {
                on: d("2025-03-17")
            }
        );
        assert_eq!(
            on_time.answer,
            Deadline::Met {
                on: d("2025-04-24")
            }
        );
        let late = ComplaintDeadlines::of(
            r,
            Some(d("2025-03-18")),
            Some(d("2025-04-25")),
            d("2025-06-01"),
        );
        assert_eq!(
            late.acknowledgment,
            Deadline::MetLate {
                on: d("2025-03-18"),
                days_late: 1
            }
        );
        assert_eq!(
            late.answer,
            Deadline::MetLate {
                on: d("2025-04-25"),
                days_late: 1
            }
        );
        assert!(late.answer.missed());
        // Nothing yet: pending until the deadline, overdue the day after.
        let open = ComplaintDeadlines::of(r, None, None, d("2025-03-17"));
        assert_eq!(
            open.acknowledgment,
            Deadline::Pending {
                due: d("2025-03-17")
            }
        );
        let open = ComplaintDeadlines::of(r, None, None, d("2025-04-30"));
        assert_eq!(
            open.acknowledgment,
            Deadline::Overdue {
                due: d("2025-03-17"),
                days_over: 44
            }
        );
        assert_eq!(
            open.answer,
            Deadline::Overdue {
                due: d("2025-04-24"),
                days_over: 6
            }
        );
        // An answer within 7 days acknowledges the complaint as well.
        let answered = ComplaintDeadlines::of(r, None, Some(d("2025-03-12")), d("2025-06-01"));
        assert_eq!(
            answered.acknowledgment,
            Deadline::Met {
                on: d("2025-03-12")
            }
        );
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn indicators_point_13_a_case_escalates_a_complaint_of_the_same_dossier_or_person() {
        let lot = Lot::new(8).unwrap();
        let complaint = ComplaintRef {
            lot,
            numero_dossier: Some("A7250301000001"),
            identifiant_beneficiaire: "P1",
            received: d("2025-03-10"),
        };
        let case = CaseRef {
            lot,
            numero_dossier: Some("A7250301000001"),
            identifiant_beneficiaire: None,
            opened: d("2025-03-12"),
        };
        let today = d("2025-04-01");
        assert!(escalates(&case, &complaint, today));
        // By person, without a dossier number.
        let by_person = CaseRef {
            numero_dossier: None,
            identifiant_beneficiaire: Some("P1"),
            ..case
        };
        assert!(escalates(&by_person, &complaint, today));
        // Opened before the complaint, or after the cut-off: not its escalation.
        let before = CaseRef {
            opened: d("2025-03-09"),
            ..case
        };
        assert!(!escalates(&before, &complaint, today));
        assert!(!escalates(&case, &complaint, d("2025-03-11")));
        // Another lot's person with the same local id is another person.
        let other_lot = CaseRef {
            lot: Lot::new(9).unwrap(),
            ..by_person
        };
        assert!(!escalates(&other_lot, &complaint, today));
        // Two cases without dossier numbers do not match on the absence.
        let no_dossier = ComplaintRef {
            numero_dossier: None,
            identifiant_beneficiaire: "P2",
            ..complaint
        };
        let case_no_dossier = CaseRef {
            numero_dossier: None,
            identifiant_beneficiaire: Some("P3"),
            ..case
        };
        assert!(!escalates(&case_no_dossier, &no_dossier, today));
    }
}
