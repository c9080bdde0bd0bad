//! Persons and the way their identity drifts between operators: accents lost or mangled by a
//! wrong encoding, case, typos, hyphen and space variants, usage vs birth name, first and last
//! name swapped, missing NIR, NIR with a wrong key, day and month swapped, changed e-mail or
//! postal code.
//!
//! Each operator also has its own habits ([`Habits`], by lot), as real information systems do:
//! all the first names in one field (`Marie, Claire` or `Marie Claire`) or only the first; names
//! in capitals; accents always dropped; the usage name or the birth name in `nom`; a personal,
//! a work or no e-mail address. A person seen by a second operator may have moved (another
//! postal code) or changed jobs (another e-mail). The linker is measured on this, not on clean
//! copies (issue 20).

use cep_domain::{Lot, Nir, Sex};
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::seq::IndexedRandom;
use std::sync::LazyLock;

const NAMES: &str = include_str!("../data/names.txt");

pub(crate) struct NameLists {
    pub surnames: Vec<&'static str>,
    pub female: Vec<&'static str>,
    pub male: Vec<&'static str>,
}

pub(crate) static LISTS: LazyLock<NameLists> = LazyLock::new(|| {
    let mut lists = NameLists {
        surnames: vec![],
        female: vec![],
        male: vec![],
    };
    let mut section = "";
    for line in NAMES
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        match section {
            "[surnames]" => lists.surnames.push(line),
            "[first_names_female]" => lists.female.push(line),
            "[first_names_male]" => lists.male.push(line),
            _ => {}
        }
    }
    lists
});

/// Postal codes and communes per regional lot (a few each; enough to block and to vary).
pub(crate) fn places(region: Lot) -> &'static [(&'static str, &'static str)] {
    match region.number() {
        1 => &[
            ("75011", "Paris"),
            ("93100", "Montreuil"),
            ("92100", "Boulogne-Billancourt"),
            ("94000", "Créteil"),
        ],
        2 => &[
            ("69003", "Lyon"),
            ("38000", "Grenoble"),
            ("63000", "Clermont-Ferrand"),
        ],
        3 => &[("59000", "Lille"), ("80000", "Amiens"), ("62000", "Arras")],
        4 => &[
            ("33000", "Bordeaux"),
            ("86000", "Poitiers"),
            ("87000", "Limoges"),
        ],
        5 => &[
            ("67000", "Strasbourg"),
            ("57000", "Metz"),
            ("68100", "Mulhouse"),
            ("51100", "Reims"),
            ("54000", "Nancy"),
        ],
        6 => &[
            ("31000", "Toulouse"),
            ("34000", "Montpellier"),
            ("66000", "Perpignan"),
        ],
        7 => &[
            ("13001", "Marseille"),
            ("06000", "Nice"),
            ("84000", "Avignon"),
        ],
        8 => &[
            ("44000", "Nantes"),
            ("49000", "Angers"),
            ("72000", "Le Mans"),
        ],
        9 => &[
            ("14000", "Caen"),
            ("76000", "Rouen"),
            ("50100", "Cherbourg-en-Cotentin"),
        ],
        10 => &[
            ("35000", "Rennes"),
            ("29200", "Brest"),
            ("56100", "Lorient"),
        ],
        11 => &[
            ("21000", "Dijon"),
            ("25000", "Besançon"),
            ("71100", "Chalon-sur-Saône"),
        ],
        12 => &[
            ("45000", "Orléans"),
            ("37000", "Tours"),
            ("18000", "Bourges"),
        ],
        13 => &[("97400", "Saint-Denis"), ("97410", "Saint-Pierre")],
        14 => &[("97110", "Pointe-à-Pitre"), ("97100", "Basse-Terre")],
        15 => &[("97200", "Fort-de-France"), ("97220", "La Trinité")],
        16 => &[("20000", "Ajaccio"), ("20200", "Bastia")],
        17 => &[("97300", "Cayenne"), ("97310", "Kourou")],
        _ => &[("97600", "Mamoudzou"), ("97615", "Pamandzi")],
    }
}

/// The true identity of a person.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub nom: String,
    pub nom_usage: Option<String>,
    pub prenom: String,
    pub sexe: Sex,
    pub naissance: NaiveDate,
    pub nir: Option<String>,
    pub email: String,
    /// The address at work, which some operators record instead (unique within its employer's
    /// domain, as an employer's directory makes it).
    pub work_email: String,
    pub code_postal: String,
    pub commune: String,
    pub adresse_numero: String,
    pub adresse_type_voie: &'static str,
    pub adresse_voie: String,
}

/// Birth department of a NIR for a person living in `region`.
fn birth_department(region: Lot, rng: &mut impl Rng) -> String {
    if rng.random_bool(0.06) {
        return "99".into();
    }
    match region.number() {
        13 => "974".into(),
        14 => "971".into(),
        15 => "972".into(),
        17 => "973".into(),
        18 => "976".into(),
        16 => if rng.random_bool(0.5) { "2A" } else { "2B" }.into(),
        _ => format!(
            "{:02}",
            [1, 13, 31, 33, 35, 44, 49, 57, 59, 67, 69, 75, 76, 92, 93][rng.random_range(0..15)]
        ),
    }
}

/// A NIR consistent with sex and birth date (valid key).
pub(crate) fn make_nir(sexe: Sex, birth: NaiveDate, region: Lot, rng: &mut impl Rng) -> String {
    let dept = birth_department(region, rng);
    let commune = if dept.len() == 3 {
        format!("{:02}", rng.random_range(1..=34))
    } else {
        format!("{:03}", rng.random_range(1..=600))
    };
    let body = format!(
        "{}{:02}{:02}{dept}{commune}{:03}",
        sexe.code(),
        birth.year() % 100,
        birth.month(),
        rng.random_range(1..=999)
    );
    Nir::with_key(&body)
        .expect("generated NIR body is well formed")
        .as_str()
        .to_owned()
}

/// Weighted choice of a surname: a few very common, a long tail (homonyms happen).
fn surname(rng: &mut impl Rng) -> String {
    let lists = &*LISTS;
    let n = lists.surnames.len();
    // Zipf-like: index = n * u^2 favours the first (most common) names.
    let u: f64 = rng.random();
    lists.surnames[((u * u) * n as f64) as usize % n].to_owned()
}

pub(crate) fn random_identity(region: Lot, year_now: i32, rng: &mut impl Rng) -> Identity {
    let lists = &*LISTS;
    let sexe = if rng.random_bool(0.55) {
        Sex::Woman
    } else {
        Sex::Man
    };
    let pick = |rng: &mut dyn rand::RngCore| -> String {
        if sexe == Sex::Woman {
            lists.female.choose(rng)
        } else {
            lists.male.choose(rng)
        }
        .expect("non-empty list")
        .to_string()
    };
    // A third of persons have two first names, a few three (civil status order).
    let mut prenom = pick(rng);
    let extra = if rng.random_bool(0.3) {
        1
    } else if rng.random_bool(0.08) {
        2
    } else {
        0
    };
    for _ in 0..extra {
        let other = pick(rng);
        if !prenom.contains(&other) {
            prenom.push(' ');
            prenom.push_str(&other);
        }
    }
    let nom = surname(rng);
    let nom_usage = (sexe == Sex::Woman && rng.random_bool(0.25)).then(|| surname(rng));
    let age = rng.random_range(20..=62);
    let naissance = NaiveDate::from_ymd_opt(
        year_now - age,
        rng.random_range(1..=12),
        rng.random_range(1..=28),
    )
    .expect("valid date");
    let (code_postal, commune) = *places(region).choose(rng).expect("non-empty");
    let email = format!(
        "{}.{}{}@{}",
        ascii_fold(prenom.split(' ').next().unwrap_or(&prenom)).to_lowercase(),
        ascii_fold(nom_usage.as_deref().unwrap_or(&nom))
            .to_lowercase()
            .replace([' ', '\''], ""),
        // Wide enough that two namesakes never share an address: an address is a person's.
        rng.random_range(1..=999_999),
        ["exemple.fr", "courriel.fr", "messagerie.org"][rng.random_range(0..3)]
    );
    let work_email = format!(
        "{}.{}{}@employeur-{:03}.fr",
        ascii_fold(prenom.split(' ').next().unwrap_or(&prenom)).to_lowercase(),
        ascii_fold(&nom).to_lowercase().replace([' ', '\''], ""),
        // A namesake at the same employer gets a number.
        if rng.random_bool(0.3) {
            rng.random_range(2..=9).to_string()
        } else {
            String::new()
        },
        rng.random_range(1..=400)
    );
    Identity {
        work_email,
        nir: Some(make_nir(sexe, naissance, region, rng)),
        nom,
        nom_usage,
        prenom,
        sexe,
        naissance,
        email,
        code_postal: code_postal.into(),
        commune: commune.into(),
        adresse_numero: rng.random_range(1..=180).to_string(),
        adresse_type_voie: ["RUE", "AVENUE", "BOULEVARD", "CHEMIN", "PLACE", "ALLEE"]
            [rng.random_range(0..6)],
        adresse_voie: [
            "DES LILAS",
            "VICTOR HUGO",
            "DE LA GARE",
            "JEAN JAURÈS",
            "DU MOULIN",
            "PASTEUR",
        ][rng.random_range(0..6)]
        .into(),
    }
}

/// Removes accents (the way a careless export does).
pub(crate) fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'À' | 'Â' | 'Ä' => 'A',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' => 'i',
            'Î' | 'Ï' => 'I',
            'ô' | 'ö' => 'o',
            'Ô' | 'Ö' => 'O',
            'ù' | 'û' | 'ü' => 'u',
            'Ù' | 'Û' | 'Ü' => 'U',
            'ç' => 'c',
            'Ç' => 'C',
            other => other,
        })
        .collect()
}

/// UTF-8 bytes read as Windows-1252/Latin-1: `é` → `Ã©`.
pub(crate) fn mojibake(s: &str) -> String {
    s.bytes().map(char::from).collect()
}

fn typo(s: &str, rng: &mut impl Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return s.to_owned();
    }
    let i = rng.random_range(1..chars.len() - 1);
    match rng.random_range(0..3) {
        0 => {
            chars.swap(i, i + 1);
        }
        1 => {
            chars.remove(i);
        }
        _ => {
            let c = chars[i];
            chars[i] = if c == 'E' {
                'A'
            } else if c == 'e' {
                'a'
            } else {
                'E'
            };
        }
    }
    chars.into_iter().collect()
}

/// How an operator's information system records identities (by lot: the same operator always
/// records the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Habits {
    /// 0: every first name, comma-separated (`Marie, Claire`); 1: every first name, spaces;
    /// 2: the first one only.
    pub first_names: u8,
    /// Names in capitals.
    pub capitals: bool,
    /// Accents always dropped.
    pub no_accents: bool,
    /// The usage name (when there is one) in `nom`, the birth name in `nom_usage`.
    pub usage_first: bool,
    /// 0: the personal e-mail; 1: often none; 2: often a work address.
    pub email: u8,
}

impl Habits {
    pub(crate) fn of(lot: Lot) -> Habits {
        let n = lot.number();
        Habits {
            first_names: n % 3,
            capitals: n.is_multiple_of(2),
            no_accents: n % 4 == 1,
            usage_first: n % 3 == 1,
            email: match n % 5 {
                0 => 1,
                3 => 2,
                _ => 0,
            },
        }
    }
}

/// How operator `lot` records a person's identity: the truth through the operator's habits,
/// with realistic drift. Returns the identity and the list of corruptions applied (for the
/// ground truth).
pub(crate) fn as_recorded(
    truth: &Identity,
    lot: Lot,
    first_operator: bool,
    rng: &mut impl Rng,
) -> (Identity, Vec<&'static str>) {
    let mut id = truth.clone();
    let mut applied = Vec::new();
    let habits = Habits::of(lot);
    // The operator's own way of recording.
    match habits.first_names {
        0 => id.prenom = id.prenom.split(' ').collect::<Vec<_>>().join(", "),
        1 => {}
        _ => {
            if let Some(first) = id.prenom.split(' ').next() {
                id.prenom = first.to_owned();
            }
        }
    }
    if let Some(usage) = id.nom_usage.clone()
        && habits.usage_first
    {
        id.nom_usage = Some(std::mem::replace(&mut id.nom, usage));
        applied.push("usage_first");
    }
    if habits.no_accents {
        id.nom = ascii_fold(&id.nom);
        id.prenom = ascii_fold(&id.prenom);
        id.nom_usage = id.nom_usage.map(|n| ascii_fold(&n));
    }
    if habits.capitals {
        id.nom = id.nom.to_uppercase();
        id.prenom = id.prenom.to_uppercase();
        id.nom_usage = id.nom_usage.map(|n| n.to_uppercase());
    }
    match habits.email {
        1 if rng.random_bool(0.4) => {
            id.email = String::new();
            applied.push("email_missing");
        }
        2 if rng.random_bool(0.5) => {
            id.email = truth.work_email.clone();
            applied.push("email_work");
        }
        _ => {}
    }
    // A person seen again elsewhere may have moved, or changed jobs and e-mail.
    if !first_operator && rng.random_bool(0.15) {
        let region = if lot.is_regional() {
            lot
        } else {
            Lot::new(rng.random_range(1..=18)).expect("lot")
        };
        let (cp, commune) = *places(region).choose(rng).expect("non-empty");
        id.code_postal = cp.into();
        id.commune = commune.into();
        id.adresse_numero = rng.random_range(1..=180).to_string();
        applied.push("moved");
    }
    if !first_operator && !id.email.is_empty() && rng.random_bool(0.1) {
        id.email = format!(
            "{}{}@{}",
            ascii_fold(truth.prenom.split(' ').next().unwrap_or("")).to_lowercase(),
            rng.random_range(10..=99),
            ["exemple.fr", "courriel.fr", "messagerie.org"][rng.random_range(0..3)]
        );
        applied.push("email_new");
    }
    // Drift is mild at the first operator and stronger elsewhere.
    let p = if first_operator { 0.04 } else { 0.12 };
    if rng.random_bool(p * 2.0) {
        id.nom = ascii_fold(&id.nom);
        id.prenom = ascii_fold(&id.prenom);
        applied.push("accents_lost");
    } else if rng.random_bool(p / 3.0) {
        id.nom = mojibake(&id.nom);
        id.prenom = mojibake(&id.prenom);
        applied.push("mojibake");
    }
    if rng.random_bool(p) {
        id.prenom = id.prenom.to_uppercase();
        id.nom = id.nom.to_lowercase();
        applied.push("case");
    }
    if rng.random_bool(p) {
        id.nom = typo(&id.nom, rng);
        applied.push("typo_nom");
    }
    if rng.random_bool(p / 2.0) {
        id.prenom = typo(&id.prenom, rng);
        applied.push("typo_prenom");
    }
    if rng.random_bool(p) && (id.prenom.contains('-') || id.nom.contains(' ')) {
        id.prenom = id.prenom.replace('-', " ");
        id.nom = id.nom.replace(' ', "-");
        applied.push("hyphen_space");
    }
    if let Some(usage) = id.nom_usage.clone()
        && !habits.usage_first
        && rng.random_bool(0.3)
    {
        // Only the usage name is known to this operator, given as the name.
        id.nom = usage;
        id.nom_usage = None;
        applied.push("usage_as_name");
    }
    if rng.random_bool(p / 4.0) {
        std::mem::swap(&mut id.nom, &mut id.prenom);
        applied.push("names_swapped");
    }
    if id.naissance.day() <= 12
        && id.naissance.day() != id.naissance.month()
        && rng.random_bool(p / 3.0)
    {
        id.naissance = NaiveDate::from_ymd_opt(
            id.naissance.year(),
            id.naissance.day(),
            id.naissance.month(),
        )
        .expect("day <= 12 is a month");
        applied.push("day_month_swapped");
    }
    if rng.random_bool(p) {
        id.email = id
            .email
            .replacen('@', &format!("{}@", rng.random_range(0..10)), 1);
        applied.push("email_changed");
    }
    // Most records carry no NIR; a few carry one with a wrong key.
    if rng.random_bool(0.8) {
        id.nir = None;
    } else if rng.random_bool(0.03) {
        let nir = id.nir.take().expect("true NIR");
        let key: u8 = nir[13..].parse().expect("digits");
        id.nir = Some(format!(
            "{}{:02}",
            &nir[..13],
            if key >= 97 { 1 } else { key + 1 }
        ));
        applied.push("nir_wrong_key");
    }
    (id, applied)
}
