//! The reference tables of the exchange format (spec §8, normative per point 33), shipped as
//! data in `domain/data/reference-tables.csv` (table;code;label, French labels) and embedded
//! at compile time. Codes are upper-case ASCII and case-sensitive; there are no synonyms.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A reference table: the set of codes a column accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTable {
    Statut,
    Origine,
    Motif,
    MotifDetaille,
    Aiguillage,
    ModeContact,
    MotifCloture,
    TypeService,
    Prestation,
    Financement,
    Decouverte,
    EtatProjet,
    Handicap,
    NiveauFormation,
    TailleEntreprise,
    CategorieSociale,
    MotifReclamation,
    /// NAF rév. 2 sections `A`…`U` (`secteur_activite`).
    SecteurActivite,
    /// COG departments plus `00` (abroad) and the overseas collectivities (`entreprise_departement`).
    Departement,
}

const DATA: &str = include_str!("../data/reference-tables.csv");

struct Table {
    codes: Vec<(&'static str, &'static str)>,
    index: HashMap<&'static str, &'static str>,
}

/// The tables, indexed by `RefTable as usize` (one lookup per check, no hashing of names).
static TABLES: LazyLock<Vec<Table>> = LazyLock::new(|| {
    let mut tables: HashMap<&'static str, Table> = HashMap::new();
    for line in DATA.lines().skip(1).filter(|l| !l.is_empty()) {
        let mut parts = line.splitn(3, ';');
        let (Some(table), Some(code), Some(label)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("malformed line in reference-tables.csv: {line:?}");
        };
        let t = tables.entry(table).or_insert_with(|| Table {
            codes: Vec::new(),
            index: HashMap::new(),
        });
        t.codes.push((code, label));
        t.index.insert(code, label);
    }
    let mut by_kind: Vec<Option<Table>> = (0..RefTable::ALL.len()).map(|_| None).collect();
    for kind in RefTable::ALL {
        let table = tables
            .remove(kind.name())
            .unwrap_or_else(|| panic!("reference table {} missing from data", kind.name()));
        by_kind[kind as usize] = Some(table);
    }
    by_kind
        .into_iter()
        .map(|t| t.expect("every kind filled"))
        .collect()
});

impl RefTable {
    pub const ALL: [RefTable; 19] = [
        RefTable::Statut,
        RefTable::Origine,
        RefTable::Motif,
        RefTable::MotifDetaille,
        RefTable::Aiguillage,
        RefTable::ModeContact,
        RefTable::MotifCloture,
        RefTable::TypeService,
        RefTable::Prestation,
        RefTable::Financement,
        RefTable::Decouverte,
        RefTable::EtatProjet,
        RefTable::Handicap,
        RefTable::NiveauFormation,
        RefTable::TailleEntreprise,
        RefTable::CategorieSociale,
        RefTable::MotifReclamation,
        RefTable::SecteurActivite,
        RefTable::Departement,
    ];

    /// The table's name, as in spec §8 (`statut`, `mode_contact`, …).
    pub const fn name(self) -> &'static str {
        match self {
            RefTable::Statut => "statut",
            RefTable::Origine => "origine",
            RefTable::Motif => "motif",
            RefTable::MotifDetaille => "motif_detaille",
            RefTable::Aiguillage => "aiguillage",
            RefTable::ModeContact => "mode_contact",
            RefTable::MotifCloture => "motif_cloture",
            RefTable::TypeService => "type_service",
            RefTable::Prestation => "prestation",
            RefTable::Financement => "financement",
            RefTable::Decouverte => "decouverte",
            RefTable::EtatProjet => "etat_projet",
            RefTable::Handicap => "handicap",
            RefTable::NiveauFormation => "niveau_formation",
            RefTable::TailleEntreprise => "taille_entreprise",
            RefTable::CategorieSociale => "categorie_sociale",
            RefTable::MotifReclamation => "motif_reclamation",
            RefTable::SecteurActivite => "secteur_activite",
            RefTable::Departement => "departement",
        }
    }

    fn table(self) -> &'static Table {
        &TABLES[self as usize]
    }

    /// Whether `code` is in the table (exact, case-sensitive).
    pub fn contains(self, code: &str) -> bool {
        self.table().index.contains_key(code)
    }

    /// The French label of `code`.
    pub fn label(self, code: &str) -> Option<&'static str> {
        self.table().index.get(code).copied()
    }

    /// Every (code, label) in the order of the data file.
    pub fn entries(self) -> &'static [(&'static str, &'static str)] {
        &self.table().codes
    }

    /// The "none" code that must stand alone in a list of this table (point 5).
    pub const fn none_code(self) -> Option<&'static str> {
        match self {
            RefTable::Prestation | RefTable::Decouverte => Some("AUCUNE"),
            RefTable::Financement => Some("AUCUN"),
            _ => None,
        }
    }
}

/// Statuses for which UO1 and UO2 are open (spec §8, `statut`): employed private-sector
/// workers (CCTP 1.2.2).
pub const ELIGIBLE_STATUSES: [&str; 8] = [
    "CDI",
    "CDD",
    "INTERIM",
    "APPRENTI",
    "INDEPENDANT",
    "DE_ACTIVITE_REDUITE",
    "ETUDIANT_EN_EMPLOI",
    "RETRAITE_EN_EMPLOI",
];

/// Statuses eligible only in continuity of an earlier engagement (spec §8; indicators point 10).
pub const CONTINUITY_STATUSES: [&str; 2] = ["DEMISSIONNAIRE", "DEMANDEUR_EMPLOI"];

/// How a status stands with regard to UO1/UO2 eligibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eligibility {
    /// Employed private-sector worker: eligible.
    Eligible,
    /// Eligible only in continuity of an earlier engagement (résigned, job-seeker).
    ContinuityOnly,
    /// Not in the CEP public of the regional operators (public agent, other).
    Ineligible,
}

/// The eligibility of a `statut` code.
pub fn status_eligibility(statut: &str) -> Eligibility {
    if ELIGIBLE_STATUSES.contains(&statut) {
        Eligibility::Eligible
    } else if CONTINUITY_STATUSES.contains(&statut) {
        Eligibility::ContinuityOnly
    } else {
        Eligibility::Ineligible
    }
}

/// Whether a person with `statut` may be engaged in UO1/UO2, given whether they are in
/// continuity of an earlier engagement (indicators point 10: an earlier eligible fiche of the
/// same dossier, an earlier UO1/UO2 engagement at any operator, or a UO2.2).
pub fn is_eligible(statut: &str, in_continuity: bool) -> bool {
    match status_eligibility(statut) {
        Eligibility::Eligible => true,
        Eligibility::ContinuityOnly => in_continuity,
        Eligibility::Ineligible => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_of_spec_8_is_shipped() {
        let sizes: Vec<(&str, usize)> = RefTable::ALL
            .iter()
            .map(|t| (t.name(), t.entries().len()))
            .collect();
        let expect = [
            ("statut", 12),
            ("origine", 9),
            ("motif", 4),
            ("motif_detaille", 10),
            ("aiguillage", 7),
            ("mode_contact", 7),
            ("motif_cloture", 5),
            ("type_service", 12),
            ("prestation", 11),
            ("financement", 9),
            ("decouverte", 5),
            ("etat_projet", 9),
            ("handicap", 3),
            ("niveau_formation", 7),
            ("taille_entreprise", 6),
            ("categorie_sociale", 6),
            ("motif_reclamation", 7),
            ("secteur_activite", 21),
        ];
        for (name, n) in expect {
            assert!(sizes.contains(&(name, n)), "{name}: {sizes:?}");
        }
    }

    #[test]
    fn codes_are_upper_case_ascii_with_french_labels() {
        for t in RefTable::ALL {
            for (code, label) in t.entries() {
                assert!(
                    code.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{code}"
                );
                assert!(!label.is_empty());
            }
        }
        assert_eq!(
            RefTable::MotifCloture.label("LIVRABLE_SIGNE"),
            Some("Livrable signé")
        );
    }

    #[test]
    fn point_33_no_synonyms_and_case_sensitive() {
        assert!(!RefTable::Financement.contains("AUCUNE"));
        assert!(RefTable::Financement.contains("AUCUN"));
        assert!(!RefTable::Statut.contains("cdi"));
        assert!(
            RefTable::SecteurActivite.contains("U") && !RefTable::SecteurActivite.contains("V")
        );
        for d in [
            "00", "2A", "2B", "971", "976", "975", "977", "978", "988", "75",
        ] {
            assert!(RefTable::Departement.contains(d), "{d}");
        }
        assert!(!RefTable::Departement.contains("20"));
    }

    #[test]
    fn cctp_1_2_2_uo1_uo2_only_for_employed_private_sector_workers() {
        assert!(is_eligible("CDI", false));
        assert!(is_eligible("RETRAITE_EN_EMPLOI", false));
        assert!(!is_eligible("AGENT_PUBLIC", true));
        assert!(!is_eligible("AUTRE", true));
        assert!(!is_eligible("DEMISSIONNAIRE", false));
        assert!(
            is_eligible("DEMISSIONNAIRE", true),
            "continuity after a status change"
        );
        assert!(is_eligible("DEMANDEUR_EMPLOI", true));
        for s in ELIGIBLE_STATUSES.iter().chain(&CONTINUITY_STATUSES) {
            assert!(RefTable::Statut.contains(s));
        }
    }
}
