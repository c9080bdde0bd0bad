//! Operator person records alone, at any volume, with the truth of who is who: the input of
//! the identity-resolution benchmark and tests (`cep bench link`). Same identity drift as the
//! full dataset ([`crate::identity::as_recorded`]), plus the hard cases on purpose:
//! - **twins**: same surname, birth date and address, different first names (and their own
//!   NIRs);
//! - **homonyms**: a stranger with a previous person's surname and birth date, elsewhere.

use crate::identity::{Identity, as_recorded, make_nir, random_identity};
use crate::lifecycle::operator_code;
use cep_domain::{Lot, Sex};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One operator person as an operator records it, with the true person behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub lot: Lot,
    pub identifiant_beneficiaire: String,
    /// The true person (ground truth).
    pub person: u32,
    pub nom: String,
    pub nom_usage: Option<String>,
    pub prenom: String,
    pub sexe: Sex,
    pub date_naissance: NaiveDate,
    pub nir: Option<String>,
    pub email: String,
    pub code_postal: String,
    pub commune: String,
    /// How the record drifted from the truth (`accents_lost`, `typo_nom`, …).
    pub corruptions: Vec<&'static str>,
    /// `twin` or `homonym` when the person was made to resemble an earlier one.
    pub lookalike: Option<&'static str>,
    /// The person this look-alike was made after (same surname and birth date).
    pub lookalike_of: Option<u32>,
}

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeopleConfig {
    pub seed: u64,
    /// Number of operator person records (approximately: a person's records are kept together).
    pub records: usize,
    /// Share of persons served by more than one operator.
    pub several_lots: f64,
    /// Share of persons made a twin of an earlier one, and a homonym of one.
    pub twins: f64,
    pub homonyms: f64,
}

impl PeopleConfig {
    pub fn new(seed: u64, records: usize) -> PeopleConfig {
        PeopleConfig {
            seed,
            records,
            several_lots: 0.15,
            twins: 0.01,
            homonyms: 0.01,
        }
    }
}

fn ident(lot: Lot, idx: usize) -> String {
    match lot.number() % 3 {
        0 => format!("B{idx:07}"),
        1 => format!("{}-{idx:06}", operator_code(lot)),
        _ => format!("P{}", 100_000 + idx),
    }
}

/// Generates the records; same config, same records.
pub fn people(config: &PeopleConfig) -> Vec<PersonRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let regions: Vec<Lot> = Lot::regional().collect();
    let mut truths: Vec<(Identity, Lot)> = Vec::new();
    let mut out: Vec<PersonRecord> = Vec::with_capacity(config.records + 4);
    while out.len() < config.records {
        let person = truths.len() as u32;
        let mut home = regions[rng.random_range(0..regions.len())];
        let mut truth = random_identity(home, 2025, &mut rng);
        let mut lookalike = None;
        let mut lookalike_of = None;
        if !truths.is_empty() && rng.random_bool(config.twins + config.homonyms) {
            let model_index = rng.random_range(0..truths.len());
            let (model, model_home) = truths[model_index].clone();
            lookalike_of = Some(model_index as u32);
            let twin = rng.random_bool(config.twins / (config.twins + config.homonyms));
            truth.nom = model.nom.clone();
            truth.naissance = model.naissance;
            // Twins never share a first name with each other; half the homonyms are full
            // namesakes (same first name too, born the same day), which only a NIR, an address
            // or an e-mail can tell apart.
            let namesake = !twin && rng.random_bool(0.5);
            let first = |p: &str| p.split(' ').next().unwrap_or("").to_owned();
            if namesake {
                truth.sexe = model.sexe;
                truth.prenom = model.prenom.clone();
            } else {
                while first(&truth.prenom) == first(&model.prenom) {
                    let other = random_identity(home, 2025, &mut rng);
                    if other.sexe == truth.sexe {
                        truth.prenom = other.prenom;
                    }
                }
            }
            if twin {
                home = model_home;
                truth.code_postal = model.code_postal.clone();
                truth.commune = model.commune.clone();
                truth.adresse_numero = model.adresse_numero.clone();
                truth.adresse_voie = model.adresse_voie.clone();
                lookalike = Some("twin");
            } else {
                lookalike = Some("homonym");
            }
            // Own NIR, own e-mails (already drawn with the old surname: redraw from the names).
            truth.work_email = format!(
                "{}.{}{}@employeur-{:03}.fr",
                crate::identity::ascii_fold(truth.prenom.split(' ').next().unwrap_or(""))
                    .to_lowercase(),
                crate::identity::ascii_fold(&truth.nom)
                    .to_lowercase()
                    .replace([' ', '\''], ""),
                rng.random_range(2..=9),
                rng.random_range(1..=400)
            );
            truth.nir = Some(make_nir(truth.sexe, truth.naissance, home, &mut rng));
            truth.email = format!(
                "{}.{}{}@exemple.fr",
                crate::identity::ascii_fold(truth.prenom.split(' ').next().unwrap_or(""))
                    .to_lowercase(),
                crate::identity::ascii_fold(&truth.nom)
                    .to_lowercase()
                    .replace([' ', '\''], ""),
                rng.random_range(1..=999_999)
            );
        }
        let mut lots = vec![home];
        if rng.random_bool(config.several_lots) {
            let extra = if rng.random_bool(0.2) { 2 } else { 1 };
            while lots.len() < 1 + extra {
                let lot = if rng.random_bool(0.3) {
                    Lot::BACKUP
                } else {
                    regions[rng.random_range(0..regions.len())]
                };
                if !lots.contains(&lot) {
                    lots.push(lot);
                }
            }
        }
        for (k, &lot) in lots.iter().enumerate() {
            let (id, corruptions) = as_recorded(&truth, lot, k == 0, &mut rng);
            let idx = out.len();
            out.push(PersonRecord {
                lot,
                identifiant_beneficiaire: ident(lot, idx),
                person,
                nom: id.nom,
                nom_usage: id.nom_usage,
                prenom: id.prenom,
                sexe: id.sexe,
                date_naissance: id.naissance,
                nir: id.nir,
                email: id.email,
                code_postal: id.code_postal,
                commune: id.commune,
                corruptions,
                lookalike,
                lookalike_of,
            });
        }
        truths.push((truth, home));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_reproducible_and_have_lookalikes() {
        let config = PeopleConfig::new(7, 5000);
        let a = people(&config);
        assert_eq!(a, people(&config));
        assert!(a.len() >= 5000);
        let persons = a.iter().map(|r| r.person).max().unwrap() + 1;
        let several = a.len() as u32 - persons;
        assert!(
            several > 400,
            "{several} extra records of persons at several lots"
        );
        assert!(a.iter().any(|r| r.lookalike == Some("twin")));
        assert!(a.iter().any(|r| r.lookalike == Some("homonym")));
        // Idents are unique per lot.
        let mut keys: Vec<_> = a
            .iter()
            .map(|r| (r.lot, &r.identifiant_beneficiaire))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), a.len());
    }
}
