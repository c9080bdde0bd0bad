//! Fixtures for ingestion tests: a registry (operators, purchase orders), a valid fiche per
//! UO that can be altered column by column, and helpers to ingest a file and read its report.
#![allow(dead_code)]

use cep_domain::Lot;
use cep_ingest::buyer::{ImportKind, import};
use cep_ingest::{Channel, Ingestor, ProcessingReport, Submission};
use cep_store::Store;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const HEADER: &str = "horodatage;numero_dossier;uo;region_lot;identifiant_beneficiaire;nir;nom;nom_usage;prenom;sexe;date_naissance;adresse_numero;adresse_type_voie;adresse_voie;adresse_commune;adresse_code_postal;entreprise_departement;entreprise_code_postal;entreprise_commune;structure;handicap;niveau_formation;secteur_activite;libelle_secteur;taille_entreprise;categorie_sociale;libelle_profession;statut;entree_entreprise;email;telephone;date_engagement;date_cloture;motif_cloture;numero_decompte;reference_bc;origine;motif;motif_detaille;aiguillage;date_demande_rdv;dates_interactions;modes_contact;numero_dossier_uo21;types_service;description_service;prestations_complementaires;auto_prescription;financement_formation;decouvertes_metiers;projet_reconversion_cpir;etat_projet_cloture;livrable_sha256";

pub const LIVRABLE: &str = "0f343b0931126a20f133d67c2b018a3b5e8d7a1c3b0f1e2d3c4b5a6978877665";

/// A test database with its ingestor and a private data directory.
pub struct Env {
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub ingestor: Ingestor,
    seq: std::cell::Cell<u32>,
}

impl Env {
    pub fn new(store: &Store) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let ingestor = Ingestor::new(store.clone(), dir.path());
        let env = Env {
            store: store.clone(),
            dir,
            ingestor,
            seq: std::cell::Cell::new(0),
        };
        env.import(
            ImportKind::Operators,
            "lot;code_operateur;nom;date_debut;date_fin\n01;IF;Titulaire IDF;2019-12-01;\n08;A7;Titulaire 08;2019-12-01;\n19;S9;Titulaire secours;2019-12-01;\n",
        );
        env.import(
            ImportKind::PurchaseOrders,
            "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n\
             2025-Lot08-UO00-01;2024-12-15;1000;40.00;0.20;2025-01-01;2025-12-31\n\
             2025-Lot08-UO01-01;2024-12-15;500;250.00;0.20;2025-01-01;2025-12-31\n\
             2025-Lot08-UO2.1-01;2024-12-15;300;900.00;0.20;2025-01-01;2025-12-31\n\
             2025-Lot08-UO2.2-01;2024-12-15;100;1200.00;0.20;2025-01-01;2025-12-31\n\
             2025-Lot01-UO01-01;2024-12-15;500;250.00;0.20;2025-01-01;2025-12-31\n\
             2025-Lot19-UO01-01;2024-12-15;50;250.00;0.20;2025-01-01;2025-12-31\n",
        );
        env
    }

    pub fn import(&self, kind: ImportKind, text: &str) {
        let p = self.dir.path().join(format!("{}.csv", kind.as_str()));
        std::fs::write(&p, text).unwrap();
        import(&self.store, kind, &p).unwrap();
    }

    /// Ingests `content` as the next `DOSSIERS` file of `lot`, received on 2025-03-12.
    pub fn dossiers(&self, lot: &str, content: &[u8]) -> ProcessingReport {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        let name = format!("CEP_L{lot}_DOSSIERS_20250311_{n:02}.csv");
        self.file(lot, &name, content)
    }

    pub fn file(&self, lot: &str, name: &str, content: &[u8]) -> ProcessingReport {
        self.file_at(lot, name, content, "2025-03-12T08:00:00Z")
    }

    /// Ingests a file received at `received_at` (RFC 3339).
    pub fn file_at(
        &self,
        lot: &str,
        name: &str,
        content: &[u8],
        received_at: &str,
    ) -> ProcessingReport {
        let dir = self.dir.path().join("in");
        std::fs::create_dir_all(&dir).unwrap();
        let path: PathBuf = dir.join(name);
        std::fs::write(&path, content).unwrap();
        self.ingestor
            .ingest_file(
                &path,
                &Submission {
                    file_name: name.to_owned(),
                    lot: Lot::parse(lot).unwrap(),
                    channel: Channel::Cli,
                    received_at: Some(received_at.parse().unwrap()),
                    json_kind: None,
                },
            )
            .unwrap()
    }
}

/// A valid fiche of lot 08 for `uo` ("00", "01", "2.1", "2.2"), open, engaged 2025-03-10.
pub fn fiche(uo: &str) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    let uu = match uo {
        "2.1" => "21",
        "2.2" => "22",
        u => u,
    };
    for (k, v) in [
        ("horodatage", "2025-03-11T18:00:00+01:00".to_owned()),
        ("numero_dossier", format!("A72503{uu}000001")),
        ("uo", uo.to_owned()),
        ("region_lot", "08".into()),
        ("identifiant_beneficiaire", "P-0001".into()),
        ("nom", "DUPONT".into()),
        ("prenom", "Marie".into()),
        ("sexe", "2".into()),
        ("date_naissance", "1985-04-12".into()),
        ("adresse_numero", "3".into()),
        ("adresse_type_voie", "RUE".into()),
        ("adresse_voie", "des Lilas".into()),
        ("adresse_commune", "Lyon".into()),
        ("adresse_code_postal", "69003".into()),
        ("structure", "SITE-01".into()),
        ("niveau_formation", "5".into()),
        ("secteur_activite", "C".into()),
        ("libelle_secteur", "Industrie manufacturière".into()),
        ("taille_entreprise", "50_249".into()),
        ("categorie_sociale", "5".into()),
        ("libelle_profession", "Technicienne".into()),
        ("statut", "CDI".into()),
        ("entree_entreprise", "2015-06".into()),
        ("email", "marie.dupont@example.fr".into()),
        ("date_engagement", "2025-03-10".into()),
        ("reference_bc", format!("2025-Lot08-UO{uo}-01-00001")),
        ("origine", "INDIVIDUELLE".into()),
        ("motif", "COMPETENCES".into()),
        ("motif_detaille", "SE_FORMER".into()),
        ("dates_interactions", "2025-03-10".into()),
        ("modes_contact", "TELEPHONE".into()),
    ] {
        m.insert(k, v);
    }
    if uo == "00" {
        m.insert("aiguillage", "RDV_CEP_INTERNE".into());
    }
    if uo == "2.1" || uo == "2.2" {
        for (k, v) in [
            ("types_service", "IDENTIFICATION_COMPETENCES"),
            ("prestations_complementaires", "AUCUNE"),
            ("auto_prescription", "N"),
            ("financement_formation", "CPF"),
            ("decouvertes_metiers", "AUCUNE"),
        ] {
            m.insert(k, v.into());
        }
    }
    m
}

/// Marks a fiche closed voluntarily on `day` with a deliverable and a statement number.
pub fn closed(mut f: BTreeMap<&'static str, String>, day: &str) -> BTreeMap<&'static str, String> {
    f.insert("date_cloture", day.into());
    f.insert("motif_cloture", "LIVRABLE_SIGNE".into());
    f.insert("livrable_sha256", LIVRABLE.into());
    f.insert("numero_decompte", "2025-Lot08-T1-01".into());
    f
}

/// A `DOSSIERS` file of these fiches.
pub fn csv(fiches: &[BTreeMap<&'static str, String>]) -> Vec<u8> {
    let cols: Vec<&str> = HEADER.split(';').collect();
    let mut s = String::from(HEADER);
    s.push('\n');
    for f in fiches {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| {
                let v = f.get(c).cloned().unwrap_or_default();
                if v.contains([';', '"', '\n']) {
                    format!("\"{}\"", v.replace('"', "\"\""))
                } else {
                    v
                }
            })
            .collect();
        s.push_str(&cells.join(";"));
        s.push('\n');
    }
    s.into_bytes()
}

/// The anomaly codes of a report, sorted, with duplicates.
pub fn codes(r: &ProcessingReport) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = r.anomalies.iter().map(|a| a.code.as_str()).collect();
    v.sort_unstable();
    v
}

/// Runs `body` on a fresh environment of each backend.
pub fn on_each(body: impl Fn(&Env)) {
    cep_store::testing::each_backend(|db| body(&Env::new(&db.store)));
}

/// A fiche as a §5 JSON record: lists as arrays, booleans as `true`/`false`.
pub fn record(f: &std::collections::BTreeMap<&'static str, String>) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    for (k, v) in f {
        let value = match *k {
            "dates_interactions" | "modes_contact" | "types_service" => {
                serde_json::Value::Array(v.split('|').map(|x| x.into()).collect())
            }
            "auto_prescription" => serde_json::Value::Bool(v == "O"),
            _ => v.clone().into(),
        };
        o.insert(k.to_string(), value);
    }
    serde_json::Value::Object(o)
}
