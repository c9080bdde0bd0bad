//! Work units (unités d'œuvre, CCTP 1.2.5–2.1). A dossier is one engagement of one person in
//! one work unit.
//!
//! | UO | what | deadline |
//! |---|---|---|
//! | 0 aiguillage | information, referral; any status | closes on its engagement day |
//! | 1 premier niveau | personalised first-level advice | engagement + 2 months |
//! | 2.1 formalisation | formalising a project | engagement + 6 months |
//! | 2.2 mise en œuvre | implementation support, only after a UO2.1 | UO2.1 engagement + 18 months |

use serde::{Deserialize, Serialize};
use std::fmt;

/// A work unit kind. Its code differs by notation: see [`WorkUnit::dossier_code`] and
/// [`WorkUnit::column_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkUnit {
    /// UO0 — aiguillage (information and referral).
    Uo0,
    /// UO1 — conseil de premier niveau.
    Uo1,
    /// UO2.1 — formalisation du projet professionnel.
    Uo21,
    /// UO2.2 — accompagnement à la mise en œuvre.
    Uo22,
}

/// Why a work-unit code does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkUnitError {
    #[error("work unit must be 00, 01, 21 or 22 in a dossier number, got {0:?}")]
    DossierCode(String),
    #[error("work unit must be 00, 01, 2.1 or 2.2, got {0:?}")]
    ColumnCode(String),
}

impl WorkUnit {
    pub const ALL: [WorkUnit; 4] = [WorkUnit::Uo0, WorkUnit::Uo1, WorkUnit::Uo21, WorkUnit::Uo22];

    /// The `UU` part of a dossier number: `00`, `01`, `21`, `22`.
    pub const fn dossier_code(self) -> &'static str {
        match self {
            WorkUnit::Uo0 => "00",
            WorkUnit::Uo1 => "01",
            WorkUnit::Uo21 => "21",
            WorkUnit::Uo22 => "22",
        }
    }
    /// The code of the `uo` column and of purchase-order references: `00`, `01`, `2.1`, `2.2`.
    pub const fn column_code(self) -> &'static str {
        match self {
            WorkUnit::Uo0 => "00",
            WorkUnit::Uo1 => "01",
            WorkUnit::Uo21 => "2.1",
            WorkUnit::Uo22 => "2.2",
        }
    }
    /// How people write it: `UO0`, `UO1`, `UO2.1`, `UO2.2`.
    pub const fn label(self) -> &'static str {
        match self {
            WorkUnit::Uo0 => "UO0",
            WorkUnit::Uo1 => "UO1",
            WorkUnit::Uo21 => "UO2.1",
            WorkUnit::Uo22 => "UO2.2",
        }
    }
    pub fn from_dossier_code(s: &str) -> Result<Self, WorkUnitError> {
        Self::ALL
            .into_iter()
            .find(|u| u.dossier_code() == s)
            .ok_or_else(|| WorkUnitError::DossierCode(s.to_owned()))
    }
    pub fn from_column_code(s: &str) -> Result<Self, WorkUnitError> {
        Self::ALL
            .into_iter()
            .find(|u| u.column_code() == s)
            .ok_or_else(|| WorkUnitError::ColumnCode(s.to_owned()))
    }
    /// UO1 and above are reserved to employed private-sector workers (CCTP 1.2.2); UO0 is
    /// open to every status.
    pub const fn requires_eligible_status(self) -> bool {
        !matches!(self, WorkUnit::Uo0)
    }
    /// Second-level support (UO2.1 and UO2.2).
    pub const fn is_second_level(self) -> bool {
        matches!(self, WorkUnit::Uo21 | WorkUnit::Uo22)
    }
}

impl fmt::Display for WorkUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notation_round_trips() {
        for u in WorkUnit::ALL {
            assert_eq!(WorkUnit::from_dossier_code(u.dossier_code()).unwrap(), u);
            assert_eq!(WorkUnit::from_column_code(u.column_code()).unwrap(), u);
        }
    }

    #[test]
    fn notations_are_not_interchangeable() {
        // Spec point 10: `uo` accepts exactly 00, 01, 2.1, 2.2; dossier numbers use 21/22.
        assert!(WorkUnit::from_column_code("21").is_err());
        assert!(WorkUnit::from_dossier_code("2.1").is_err());
        assert!(WorkUnit::from_column_code("1").is_err());
        assert!(WorkUnit::from_column_code("02").is_err());
    }

    #[test]
    fn cctp_1_2_2_uo0_is_open_to_every_status() {
        assert!(!WorkUnit::Uo0.requires_eligible_status());
        assert!(WorkUnit::Uo1.requires_eligible_status());
        assert!(WorkUnit::Uo22.requires_eligible_status());
    }
}
