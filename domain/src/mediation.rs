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

#[cfg(test)]
mod tests {
    use super::*;

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
