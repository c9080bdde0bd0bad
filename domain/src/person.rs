//! Rules about one person's dossiers across operators, once identity resolution has given each
//! operator person a national person: continuity of eligibility (indicators-v1 point 10) and the
//! concurrent CEP (CCTP 1.2.4, feed-format point 24). Ingestion, billing and the indicators all
//! decide them here.

use crate::{Lot, WorkUnit};
use chrono::NaiveDate;

/// Continuity of eligibility (indicators-v1 point 10): a `DEMISSIONNAIRE` or `DEMANDEUR_EMPLOI`
/// stays eligible when the same dossier had an eligible fiche before, or the person had an
/// earlier UO1/UO2 engagement at any operator (`earlier_engagements`: the engagement dates of
/// the person's other UO1/UO2 dossiers), or the dossier is a UO2.2.
pub fn in_continuity(
    uo: WorkUnit,
    engagement: NaiveDate,
    dossier_had_eligible_fiche: bool,
    earlier_engagements: impl IntoIterator<Item = NaiveDate>,
) -> bool {
    uo == WorkUnit::Uo22
        || dossier_had_eligible_fiche
        || earlier_engagements.into_iter().any(|e| e < engagement)
}

/// Another dossier of the same person, as known at the moment of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherDossier {
    pub lot: Lot,
    pub uo: WorkUnit,
    pub engagement: NaiveDate,
    /// Its effective closure date; `None` while open.
    pub closure: Option<NaiveDate>,
}

/// `CONCURRENT_CEP` (CCTP 1.2.4, feed-format point 24): a UO1/UO2 dossier of lot `lot` engaged
/// on `engagement` is concurrent with `other` when `other` is a UO1/UO2 of the same person in
/// another lot and the engagement falls within [its engagement, its effective closure).
pub fn concurrent_cep(lot: Lot, uo: WorkUnit, engagement: NaiveDate, other: &OtherDossier) -> bool {
    uo != WorkUnit::Uo0
        && other.uo != WorkUnit::Uo0
        && other.lot != lot
        && other.engagement <= engagement
        && other.closure.is_none_or(|c| engagement < c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn lot(n: u8) -> Lot {
        Lot::new(n).unwrap()
    }

    #[test]
    fn indicators_point_10_continuity_from_the_dossier_an_earlier_engagement_or_a_uo22() {
        let e = d("2025-05-01");
        assert!(!in_continuity(WorkUnit::Uo1, e, false, []));
        assert!(in_continuity(WorkUnit::Uo1, e, true, []));
        assert!(in_continuity(WorkUnit::Uo1, e, false, [d("2025-01-10")]));
        // The same day is not earlier.
        assert!(!in_continuity(
            WorkUnit::Uo1,
            e,
            false,
            [e, d("2025-06-01")]
        ));
        assert!(in_continuity(WorkUnit::Uo22, e, false, []));
    }

    #[test]
    fn feed_point_24_concurrent_cep_within_engagement_and_effective_closure_elsewhere() {
        let other = OtherDossier {
            lot: lot(1),
            uo: WorkUnit::Uo1,
            engagement: d("2025-03-01"),
            closure: Some(d("2025-04-15")),
        };
        let at = |e: &str| concurrent_cep(lot(8), WorkUnit::Uo21, d(e), &other);
        assert!(at("2025-03-01"), "engaged the same day: within");
        assert!(at("2025-04-14"));
        assert!(
            !at("2025-04-15"),
            "the closure day is outside [engagement, closure)"
        );
        assert!(!at("2025-02-28"), "before the other engagement");
        // Open elsewhere: concurrent from its engagement on.
        let open = OtherDossier {
            closure: None,
            ..other
        };
        assert!(concurrent_cep(
            lot(8),
            WorkUnit::Uo1,
            d("2026-01-01"),
            &open
        ));
        // Same lot, or a UO0 on either side, is never concurrent.
        assert!(!concurrent_cep(
            lot(1),
            WorkUnit::Uo1,
            d("2025-03-10"),
            &other
        ));
        assert!(!concurrent_cep(
            lot(8),
            WorkUnit::Uo0,
            d("2025-03-10"),
            &other
        ));
        let uo0 = OtherDossier {
            uo: WorkUnit::Uo0,
            ..open
        };
        assert!(!concurrent_cep(
            lot(8),
            WorkUnit::Uo1,
            d("2025-03-10"),
            &uo0
        ));
    }
}
