//! The 19 lots of the framework agreement (accord-cadre). Lots 01–18 each serve one region
//! (13 metropolitan regions and 5 overseas departments/regions); lot 19 is the backup lot
//! (lot de suppléance) that takes over the service of a regional lot for a while, so its
//! dossiers carry the regional lot they serve (`region_lot`).

use crate::calendar::Calendar;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A lot number, `01` … `19`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lot(u8);

/// What is known of a regional lot: its region and the calendar of public holidays there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionInfo {
    /// Region name, as INSEE writes it.
    pub name: &'static str,
    /// INSEE region code (COG), e.g. `52` for Pays de la Loire, `04` for La Réunion.
    pub insee_code: &'static str,
    /// Overseas department and region (DROM).
    pub overseas: bool,
    /// The calendar of public holidays that applies region-wide (Alsace-Moselle, inside
    /// Grand Est, is decided per address: see [`Calendar::for_region`]).
    pub calendar: Calendar,
}

const REGIONS: [RegionInfo; 18] = [
    RegionInfo {
        name: "Île-de-France",
        insee_code: "11",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Auvergne-Rhône-Alpes",
        insee_code: "84",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Hauts-de-France",
        insee_code: "32",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Nouvelle-Aquitaine",
        insee_code: "75",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Grand Est",
        insee_code: "44",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Occitanie",
        insee_code: "76",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Provence-Alpes-Côte d'Azur",
        insee_code: "93",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Pays de la Loire",
        insee_code: "52",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Normandie",
        insee_code: "28",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Bretagne",
        insee_code: "53",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Bourgogne-Franche-Comté",
        insee_code: "27",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Centre-Val de Loire",
        insee_code: "24",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "La Réunion",
        insee_code: "04",
        overseas: true,
        calendar: Calendar::Reunion,
    },
    RegionInfo {
        name: "Guadeloupe",
        insee_code: "01",
        overseas: true,
        calendar: Calendar::Guadeloupe,
    },
    RegionInfo {
        name: "Martinique",
        insee_code: "02",
        overseas: true,
        calendar: Calendar::Martinique,
    },
    RegionInfo {
        name: "Corse",
        insee_code: "94",
        overseas: false,
        calendar: Calendar::Metropolitan,
    },
    RegionInfo {
        name: "Guyane",
        insee_code: "03",
        overseas: true,
        calendar: Calendar::Guyane,
    },
    RegionInfo {
        name: "Mayotte",
        insee_code: "06",
        overseas: true,
        calendar: Calendar::Mayotte,
    },
];

/// Why a lot text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a lot number from 01 to 19 (two digits), got {0:?}")]
pub struct LotError(pub String);

impl Lot {
    /// The backup lot (lot de suppléance), which serves a regional lot for a while.
    pub const BACKUP: Lot = Lot(19);
    /// The regional lot of Grand Est, where Alsace-Moselle's local holidays apply.
    pub const GRAND_EST: Lot = Lot(5);

    /// `None` unless `n` is 1..=19.
    pub const fn new(n: u8) -> Option<Lot> {
        if n >= 1 && n <= 19 {
            Some(Lot(n))
        } else {
            None
        }
    }
    /// Every lot, 01 to 19.
    pub fn all() -> impl Iterator<Item = Lot> {
        (1..=19).map(Lot)
    }
    /// The 18 regional lots, 01 to 18.
    pub fn regional() -> impl Iterator<Item = Lot> {
        (1..=18).map(Lot)
    }
    pub const fn number(self) -> u8 {
        self.0
    }
    pub const fn is_backup(self) -> bool {
        self.0 == 19
    }
    pub const fn is_regional(self) -> bool {
        self.0 <= 18
    }
    /// The region a regional lot serves; `None` for lot 19, whose region is per dossier.
    pub fn region(self) -> Option<&'static RegionInfo> {
        REGIONS.get(usize::from(self.0) - 1)
    }
    /// The regional lot a dossier of this lot serves (indicators-v1 "Region of a dossier"):
    /// its `region_lot` for lot 19, the lot itself otherwise. A lot-19 dossier without a
    /// readable `region_lot` (refused at ingestion, point 16) is counted as lot 19's own.
    pub fn region_served(self, region_lot: Option<&str>) -> Lot {
        if self.is_backup() {
            region_lot
                .and_then(|r| Lot::parse(r).ok())
                .filter(|r| r.is_regional())
                .unwrap_or(self)
        } else {
            self
        }
    }
    /// Human label: the region's name, or "Suppléance" for lot 19.
    pub fn label(self) -> &'static str {
        self.region().map_or("Suppléance (lot 19)", |r| r.name)
    }
    /// The lot of a drop folder (`L08`): the inbox, archive and outbox are laid out by lot.
    pub fn of_folder(name: &str) -> Option<Lot> {
        Lot::parse(name.strip_prefix('L')?).ok()
    }

    /// The folder of this lot (`L08`).
    pub fn folder(self) -> String {
        format!("L{self}")
    }

    /// Parses the two-digit form used in files and columns (`08`, `19`).
    pub fn parse(s: &str) -> Result<Lot, LotError> {
        let err = || LotError(s.to_owned());
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        s.parse::<u8>().ok().and_then(Lot::new).ok_or_else(err)
    }
}

impl fmt::Display for Lot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

impl FromStr for Lot {
    type Err = LotError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Lot::parse(s)
    }
}

impl TryFrom<String> for Lot {
    type Error = LotError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Lot::parse(&s)
    }
}

impl From<Lot> for String {
    fn from(l: Lot) -> String {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_1_the_drop_folders_are_named_after_their_lot() {
        assert_eq!(Lot::of_folder("L08"), Lot::new(8));
        assert_eq!(Lot::new(8).unwrap().folder(), "L08");
        assert_eq!(Lot::of_folder("L20"), None);
        assert_eq!(Lot::of_folder("08"), None);
        assert_eq!(Lot::of_folder("livrables"), None);
    }

    #[test]
    fn nineteen_lots_eighteen_regions_and_one_backup_lot() {
        assert_eq!(Lot::all().count(), 19);
        assert_eq!(Lot::regional().count(), 18);
        assert!(Lot::BACKUP.region().is_none());
        assert!(Lot::regional().all(|l| l.region().is_some()));
        let codes: std::collections::BTreeSet<_> = Lot::regional()
            .map(|l| l.region().unwrap().insee_code)
            .collect();
        assert_eq!(
            codes.len(),
            18,
            "each regional lot serves a distinct region"
        );
    }

    #[test]
    fn overseas_lots_have_their_own_calendar() {
        let overseas: Vec<_> = Lot::regional()
            .filter(|l| l.region().unwrap().overseas)
            .collect();
        assert_eq!(
            overseas.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            ["13", "14", "15", "17", "18"]
        );
        for l in overseas {
            assert_ne!(l.region().unwrap().calendar, Calendar::Metropolitan);
        }
        assert_eq!(Lot::parse("16").unwrap().label(), "Corse");
    }

    #[test]
    fn lot_parsing_is_strict_two_digits() {
        assert_eq!(Lot::parse("08").unwrap().number(), 8);
        for bad in ["8", "00", "20", "008", "L08", " 08", ""] {
            assert!(Lot::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn indicators_region_of_a_dossier_is_region_lot_for_lot_19_and_the_lot_otherwise() {
        let l19 = Lot::BACKUP;
        assert_eq!(l19.region_served(Some("03")), Lot::new(3).unwrap());
        assert_eq!(l19.region_served(None), l19);
        assert_eq!(l19.region_served(Some("19")), l19);
        let l08 = Lot::new(8).unwrap();
        assert_eq!(
            l08.region_served(Some("03")),
            l08,
            "a regional lot serves its own region"
        );
    }
}
