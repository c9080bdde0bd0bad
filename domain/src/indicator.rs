//! The catalogue of the CCTP 4.3 indicators (indicators-v1): each code with its French label,
//! what its value is, which way is good, how often it is computed and how it is grouped. The
//! engine, the committee documents and the API read it from here.

/// What an indicator's value is, which decides how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// numerator / denominator, shown as a percentage.
    Rate,
    /// A ratio − 1 (indicator 3), shown as a signed percentage.
    Growth,
    /// A mean number of days (6.2–6.4), the median beside it.
    MeanDays,
    /// A count (6.5–6.7): empty denominator, value = count.
    Count,
    /// Units per full-time equivalent (7.x).
    PerFte,
}

/// Which way an indicator should move for the committee to call it progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is better.
    Up,
    /// Lower is better.
    Down,
    /// Neither: a distribution to read, not a target to meet.
    Neutral,
}

/// How often it is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Monthly,
    HalfYearly,
}

/// One indicator of indicators-v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indicator {
    pub code: &'static str,
    /// French label, as the committee documents print it.
    pub label: &'static str,
    pub kind: ValueKind,
    pub direction: Direction,
    pub frequency: Frequency,
    /// Grouped by the region served (2.x, 3) rather than by lot (point 3).
    pub by_region: bool,
    /// One row per code of a reference table (2.3, 2.4, 8.2).
    pub categories: bool,
}

impl Indicator {
    /// The indicator of `code`.
    pub fn of(code: &str) -> Option<&'static Indicator> {
        CATALOGUE.iter().find(|i| i.code == code)
    }

    /// Whether a move from `before` to `now` is progress (`Some(true)`), a setback
    /// (`Some(false)`), or neither (no move, or a neutral indicator: `None`).
    pub fn progress(&self, before: f64, now: f64) -> Option<bool> {
        if now == before {
            return None;
        }
        match self.direction {
            Direction::Up => Some(now > before),
            Direction::Down => Some(now < before),
            Direction::Neutral => None,
        }
    }
}

const fn ind(
    code: &'static str,
    label: &'static str,
    kind: ValueKind,
    direction: Direction,
    frequency: Frequency,
) -> Indicator {
    Indicator {
        code,
        label,
        kind,
        direction,
        frequency,
        by_region: false,
        categories: false,
    }
}

const fn regional(i: Indicator) -> Indicator {
    Indicator {
        by_region: true,
        ..i
    }
}

const fn per_category(i: Indicator) -> Indicator {
    Indicator {
        categories: true,
        ..i
    }
}

use Direction::{Down, Neutral, Up};
use Frequency::{HalfYearly, Monthly};
use ValueKind::{Count, Growth, MeanDays, PerFte, Rate};

/// Every indicator, in the order of indicators-v1.
pub const CATALOGUE: &[Indicator] = &[
    ind(
        "1.1",
        "Engagements UO0 sur le bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "1.2",
        "Engagements UO1 sur le bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "1.3",
        "Engagements UO2.1 sur le bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "1.4",
        "Engagements UO2.2 sur le bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    regional(ind(
        "2.1",
        "Personnes UO0 / population active",
        Rate,
        Up,
        Monthly,
    )),
    regional(ind(
        "2.2",
        "Personnes UO1–UO2 / population cible CEP",
        Rate,
        Up,
        Monthly,
    )),
    regional(per_category(ind(
        "2.3",
        "Personnes UO1–UO2 par catégorie sociale",
        Rate,
        Up,
        Monthly,
    ))),
    regional(per_category(ind(
        "2.4",
        "Personnes UO1–UO2 par statut",
        Rate,
        Up,
        Monthly,
    ))),
    regional(ind(
        "3",
        "Évolution sur un an des engagements UO1–UO2",
        Growth,
        Up,
        Monthly,
    )),
    ind(
        "4.1",
        "Clôtures facturables UO0 / bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "4.2",
        "Clôtures facturables UO1 / bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "4.3",
        "Clôtures facturables UO2.1 / bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "4.4",
        "Clôtures facturables UO2.2 / bon en cours",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "5.1",
        "Clôtures facturables UO0 / bons notifiés",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "5.2",
        "Clôtures facturables UO1 / bons notifiés",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "5.3",
        "Clôtures facturables UO2.1 / bons notifiés",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "5.4",
        "Clôtures facturables UO2.2 / bons notifiés",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "6.1",
        "UO2 clôturées avec prestation complémentaire",
        Rate,
        Up,
        Monthly,
    ),
    ind(
        "6.2",
        "Durée moyenne d'accompagnement UO1",
        MeanDays,
        Down,
        Monthly,
    ),
    ind(
        "6.3",
        "Durée moyenne d'accompagnement UO2.1",
        MeanDays,
        Down,
        Monthly,
    ),
    ind(
        "6.4",
        "Durée moyenne d'accompagnement UO2.2",
        MeanDays,
        Down,
        Monthly,
    ),
    ind(
        "6.5",
        "Abandons UO1 à échéance dans le mois",
        Count,
        Down,
        Monthly,
    ),
    ind(
        "6.6",
        "Abandons UO2.1 à échéance dans le mois",
        Count,
        Down,
        Monthly,
    ),
    ind(
        "6.7",
        "Abandons UO2.2 à échéance dans le mois",
        Count,
        Down,
        Monthly,
    ),
    ind(
        "6.8",
        "Retour en accompagnement sous 3 mois",
        Rate,
        Down,
        Monthly,
    ),
    ind(
        "7.1",
        "Clôtures facturables UO0 par ETP",
        PerFte,
        Up,
        HalfYearly,
    ),
    ind(
        "7.2",
        "Clôtures facturables UO1 par ETP",
        PerFte,
        Up,
        HalfYearly,
    ),
    ind(
        "7.3",
        "Clôtures facturables UO2.1 par ETP",
        PerFte,
        Up,
        HalfYearly,
    ),
    ind(
        "7.4",
        "Clôtures facturables UO2.2 par ETP",
        PerFte,
        Up,
        HalfYearly,
    ),
    ind(
        "8.1",
        "Bénéficiaires satisfaits (qualité et utilité)",
        Rate,
        Up,
        HalfYearly,
    ),
    per_category(ind(
        "8.2",
        "Types de service des UO2 clôturées",
        Rate,
        Neutral,
        HalfYearly,
    )),
    ind("8.3", "Contacts mystère conformes", Rate, Up, HalfYearly),
    ind(
        "8.4",
        "Premier rendez-vous sous 30 jours ouvrés",
        Rate,
        Up,
        HalfYearly,
    ),
    ind("8.5", "Livrables contrôlés conformes", Rate, Up, HalfYearly),
    ind(
        "8.6",
        "Prestations complémentaires auto-prescrites",
        Rate,
        Down,
        HalfYearly,
    ),
    ind(
        "8.7",
        "Réclamations suivies d'une saisine du médiateur",
        Rate,
        Down,
        HalfYearly,
    ),
];

/// The codes computed for a month (1.1–6.8) or a half-year (7.1–8.7), in catalogue order.
pub fn codes(frequency: Frequency) -> impl Iterator<Item = &'static str> {
    CATALOGUE
        .iter()
        .filter(move |i| i.frequency == frequency)
        .map(|i| i.code)
}

/// Indicator 8.4's rule (CCTP 4.3): the first appointment within 30 working days of the request.
pub const RDV_LIMIT_WORKING_DAYS: i64 = 30;

/// Whether a first-appointment delay (working days, [`crate::rdv_delay`]) meets 8.4's rule.
pub const fn rdv_within_limit(working_days: i64) -> bool {
    working_days <= RDV_LIMIT_WORKING_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_every_code_of_indicators_v1_once() {
        let monthly: Vec<&str> = codes(Monthly).collect();
        assert_eq!(
            monthly,
            [
                "1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3", "4.1", "4.2", "4.3",
                "4.4", "5.1", "5.2", "5.3", "5.4", "6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7",
                "6.8"
            ]
        );
        let half: Vec<&str> = codes(HalfYearly).collect();
        assert_eq!(
            half,
            [
                "7.1", "7.2", "7.3", "7.4", "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7"
            ]
        );
        assert!(CATALOGUE.iter().all(|i| !i.label.is_empty()));
    }

    #[test]
    fn durations_abandonments_and_escalations_are_better_when_they_fall() {
        for code in ["6.2", "6.5", "6.7", "8.7"] {
            let i = Indicator::of(code).unwrap();
            assert_eq!(i.progress(10.0, 8.0), Some(true), "{code} falling");
            assert_eq!(i.progress(8.0, 10.0), Some(false), "{code} rising");
        }
        let i = Indicator::of("1.2").unwrap();
        assert_eq!(i.progress(0.2, 0.3), Some(true));
        assert_eq!(i.progress(0.3, 0.3), None);
        assert_eq!(Indicator::of("8.2").unwrap().progress(0.1, 0.2), None);
    }

    #[test]
    fn cctp_4_3_indicator_8_4_first_appointment_within_30_working_days() {
        assert!(rdv_within_limit(0));
        assert!(rdv_within_limit(30));
        assert!(!rdv_within_limit(31));
    }

    #[test]
    fn indicators_point_3_only_2_x_and_3_group_by_region() {
        let regional: Vec<&str> = CATALOGUE
            .iter()
            .filter(|i| i.by_region)
            .map(|i| i.code)
            .collect();
        assert_eq!(regional, ["2.1", "2.2", "2.3", "2.4", "3"]);
    }
}
