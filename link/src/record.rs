//! An operator person's identity as the linker sees it: the raw fields an operator sent, and
//! the normalised features compared and blocked on.

use crate::normalise;
use cep_domain::Sex;
use chrono::NaiveDate;

/// The identity fields of one operator person, as received (fiche columns `nom`, `nom_usage`,
/// `prenom`, `sexe`, `date_naissance`, `nir`, `email`, `adresse_code_postal`,
/// `adresse_commune`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityFields {
    /// The lot whose operator recorded it (1–19).
    pub lot: Option<u8>,
    pub nom: Option<String>,
    pub nom_usage: Option<String>,
    pub prenom: Option<String>,
    pub sexe: Option<Sex>,
    pub date_naissance: Option<NaiveDate>,
    pub nir: Option<String>,
    pub email: Option<String>,
    pub code_postal: Option<String>,
    pub commune: Option<String>,
}

/// A name in comparison form with its phonetic code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub core: Box<str>,
    pub phonetic: Box<str>,
}

impl Name {
    fn new(core: String) -> Option<Name> {
        (!core.is_empty()).then(|| Name {
            phonetic: normalise::phonetic(&core).into(),
            core: core.into(),
        })
    }
}

/// The normalised features of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features {
    /// Birth name then usage name, each at most once.
    pub surnames: Vec<Name>,
    /// All first names joined (`JEANPIERRE`).
    pub first: Option<Name>,
    /// The first of the first names (`JEAN`).
    pub first_token: Box<str>,
    /// `YYYYMMDD`, 0 when unknown.
    pub birth: u32,
    /// 0 unknown, 1 man, 2 woman.
    pub sex: u8,
    pub email: Box<str>,
    pub postcode: Box<str>,
    pub department: Box<str>,
    pub commune: Box<str>,
    /// A valid NIR consistent with sex and birth date: proof of identity.
    pub nir: Option<Box<str>>,
    /// The 13-digit body of any well-formed NIR, valid or not: evidence only.
    pub nir_body: Option<Box<str>>,
    /// The recording lot, 0 when unknown.
    pub lot: u8,
}

impl Features {
    pub fn of(f: &IdentityFields) -> Features {
        let mut surnames = Vec::with_capacity(2);
        for n in [&f.nom, &f.nom_usage].into_iter().flatten() {
            if let Some(name) = Name::new(normalise::surname_core(n))
                && !surnames.contains(&name)
            {
                surnames.push(name);
            }
        }
        let (first, first_token) = f
            .prenom
            .as_deref()
            .map(normalise::first_names)
            .unwrap_or_default();
        let (nir, nir_body) = normalise::nir(f.nir.as_deref(), f.sexe, f.date_naissance);
        let email = f.email.as_deref().map(normalise::email).unwrap_or_default();
        let (postcode, department) = f
            .code_postal
            .as_deref()
            .and_then(normalise::postcode)
            .unwrap_or_default();
        Features {
            surnames,
            first: Name::new(first),
            first_token: first_token.into(),
            birth: f.date_naissance.map(normalise::date_digits).unwrap_or(0),
            sex: match f.sexe {
                None => 0,
                Some(Sex::Man) => 1,
                Some(Sex::Woman) => 2,
            },
            email: email.into(),
            postcode: postcode.into(),
            department: department.into(),
            commune: f
                .commune
                .as_deref()
                .map(normalise::fold)
                .unwrap_or_default()
                .into(),
            nir: nir.map(Into::into),
            nir_body: nir_body.map(Into::into),
            lot: f.lot.unwrap_or(0),
        }
    }
}
