//! The facts the indicators are computed from, as plain rows: what [`crate::load`] reads from
//! the store as of a data cut-off, what tests build by hand, and what the benchmark generates.
//! [`crate::frames`] turns them into Polars frames.
//!
//! Everything that needs the domain's rules (deadlines, effective closures, eligibility with
//! continuity, billability, working days) is decided here, per dossier, by `cep_domain` and
//! `cep_billing`, so that the indicators and billing always agree; the indicators themselves
//! only filter, join and count.

use cep_domain::{Lot, WorkUnit};
use chrono::{NaiveDate, NaiveDateTime};

/// One dossier as known at the cut-off, with what the domain derives from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFacts {
    /// National dossier number (pseudonymous; drill-downs list these).
    pub numero: String,
    /// The lot of the file that sent it (point 19).
    pub lot: Lot,
    /// `region_lot` for lot 19, the lot otherwise.
    pub region: Lot,
    pub uo: WorkUnit,
    /// The national person id from identity resolution.
    pub person: String,
    pub statut: String,
    pub categorie_sociale: Option<String>,
    /// `horodatage` of the dossier's latest fiche at the cut-off (orders a person's fiches:
    /// points 5 of 2.3/2.4).
    pub horodatage: NaiveDateTime,
    /// Eligible at the cut-off, continuity included (point 10).
    pub eligible: bool,
    pub engagement: NaiveDate,
    /// `None` for a UO2.2 whose UO2.1 is unknown.
    pub deadline: Option<NaiveDate>,
    /// Effective closure at the cut-off (`None` while open).
    pub closure: Option<NaiveDate>,
    /// The effective closure is voluntary (false for an abandonment).
    pub voluntary: bool,
    /// The purchase order named by `reference_bc` (its first four parts), as sent.
    pub order: Option<String>,
    /// A billable closure (point 15): the order it consumes.
    pub consumes: Option<String>,
    /// At least one `prestations_complementaires` other than `AUCUNE`.
    pub complementary: bool,
    pub auto_prescription: Option<bool>,
    /// `types_service` codes of the latest fiche.
    pub types_service: Vec<String>,
    pub rdv_request: Option<NaiveDate>,
    /// The earliest of `dates_interactions`.
    pub first_interaction: Option<NaiveDate>,
    /// Working days from `rdv_request` to `first_interaction` on the dossier's calendar
    /// (point 11), when both are known.
    pub rdv_delay: Option<i64>,
}

/// A purchase order as currently recorded (point 17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub reference: String,
    pub lot: Lot,
    pub uo: WorkUnit,
    pub notified: NaiveDate,
    pub quantity: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Reference population dimension (`populations.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    Total,
    SocialCategory,
    Status,
}

impl Dimension {
    pub fn parse(s: &str) -> Option<Dimension> {
        match s {
            "total" => Some(Dimension::Total),
            "categorie_sociale" => Some(Dimension::SocialCategory),
            "statut" => Some(Dimension::Status),
            _ => None,
        }
    }
}

/// A regional reference population for a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopulationFacts {
    pub region: Lot,
    pub year: i32,
    pub dimension: Dimension,
    /// Empty for [`Dimension::Total`].
    pub code: String,
    pub active: Option<i64>,
    pub target: Option<i64>,
}

/// A survey answer (8.1), with its dossier's lot when the dossier is known at the cut-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyFacts {
    pub numero: String,
    pub lot: Option<Lot>,
    pub date: NaiveDate,
    pub satisfied: bool,
}

/// A mystery contact (8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MysteryFacts {
    pub lot: Lot,
    pub date: NaiveDate,
    pub number: i32,
    pub compliant: bool,
}

/// A deliverable control (8.5), with its dossier's lot when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFacts {
    pub numero: String,
    pub lot: Option<Lot>,
    pub date: NaiveDate,
    pub compliant: bool,
}

/// A complaint (8.7) as known at the cut-off, and whether a mediation case covering it was
/// opened by then (point 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintFacts {
    pub lot: Lot,
    pub reference: String,
    pub received: NaiveDate,
    pub mediated: bool,
}

/// FTE declared for a lot and half-year (`MOYENS`, point 16), in hundredths, per work unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeansFacts {
    pub lot: Lot,
    /// `AAAA-S1` / `AAAA-S2`.
    pub period: String,
    pub fte_hundredths: [i64; 4],
}

/// Everything the indicators read, as of one data cut-off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    pub dossiers: Vec<DossierFacts>,
    pub orders: Vec<OrderFacts>,
    pub populations: Vec<PopulationFacts>,
    pub surveys: Vec<SurveyFacts>,
    pub mystery: Vec<MysteryFacts>,
    pub controls: Vec<ControlFacts>,
    pub complaints: Vec<ComplaintFacts>,
    pub means: Vec<MeansFacts>,
}

/// The index of a work unit in `[UO0, UO1, UO2.1, UO2.2]` arrays.
pub fn uo_index(uo: WorkUnit) -> usize {
    match uo {
        WorkUnit::Uo0 => 0,
        WorkUnit::Uo1 => 1,
        WorkUnit::Uo21 => 2,
        WorkUnit::Uo22 => 3,
    }
}
