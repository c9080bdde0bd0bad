//! Hand-built fixtures written straight into a test store (the rows ingestion would write), so
//! that each indicator is checked through the whole path: store as of a cut-off → domain and
//! billing decisions → frames → Polars.
#![allow(dead_code)]

use cep_domain::Lot;
use cep_indicators::{IndicatorValue, Period};
use cep_store::models::buyer::{
    NewDeliverableControl, NewMysteryContact, NewPurchaseOrder, NewReferencePopulation,
    NewSurveyAnswer,
};
use cep_store::models::dossiers::{NewFiche, NewIdentityRecord};
use cep_store::models::indicators::NewMediationCase;
use cep_store::models::ingest::{NewDossierRow, NewPerson, insert_dossiers, insert_persons};
use cep_store::models::link::set_national_ids;
use cep_store::models::receipts::NewReceipt;
use cep_store::schema::{complaints, means};
use cep_store::testing::TestDb;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

pub fn day(s: &str) -> NaiveDate {
    s.parse().expect("date AAAA-MM-JJ")
}

/// A UTC instant `AAAA-MM-JJTHH:MM:SS`.
pub fn at(s: &str) -> NaiveDateTime {
    s.parse().expect("instant")
}

/// Received long before any cut-off of the tests.
pub const EARLY: &str = "2024-01-01T00:00:00";

/// One dossier and its (single) fiche.
#[derive(Debug, Clone)]
pub struct D {
    pub lot: &'static str,
    /// `region_lot` (lot 19); the lot otherwise.
    pub region: Option<&'static str>,
    /// Column code: `00`, `01`, `2.1`, `2.2`.
    pub uo: &'static str,
    /// National person id.
    pub person: &'static str,
    pub statut: &'static str,
    pub categorie: Option<&'static str>,
    pub engagement: &'static str,
    pub cloture: Option<&'static str>,
    pub motif: Option<&'static str>,
    pub reference_bc: Option<String>,
    pub uo21: Option<String>,
    pub livrable: bool,
    pub prestations: Option<&'static str>,
    pub auto_prescription: Option<bool>,
    pub types_service: Option<&'static str>,
    pub rdv: Option<&'static str>,
    pub interactions: Option<&'static str>,
    pub postal_code: Option<&'static str>,
    /// `horodatage` of the fiche (UTC).
    pub horodatage: &'static str,
    /// When the fiche was received (UTC).
    pub received: &'static str,
}

impl D {
    pub fn new(
        lot: &'static str,
        uo: &'static str,
        person: &'static str,
        engagement: &'static str,
    ) -> D {
        D {
            lot,
            region: None,
            uo,
            person,
            statut: "CDI",
            categorie: Some("5"),
            engagement,
            cloture: None,
            motif: None,
            reference_bc: None,
            uo21: None,
            livrable: false,
            prestations: None,
            auto_prescription: None,
            types_service: None,
            rdv: None,
            interactions: None,
            postal_code: None,
            horodatage: "2024-06-01T00:00:00",
            received: EARLY,
        }
    }
    /// Closed voluntarily on `date` (`LIVRABLE_SIGNE`), with a deliverable.
    pub fn closed(mut self, date: &'static str) -> D {
        self.cloture = Some(date);
        self.motif = Some("LIVRABLE_SIGNE");
        self.livrable = true;
        self
    }
    /// On the order `order`, unit number `n`.
    pub fn on(mut self, order: &str, n: u32) -> D {
        self.reference_bc = Some(format!("{order}-{n:05}"));
        self
    }
}

pub struct Fx {
    pub db: TestDb,
    receipt: i64,
    count: u32,
    persons: std::collections::HashMap<(String, String), i64>,
}

impl Fx {
    pub fn new(db: TestDb) -> Fx {
        let receipt = NewReceipt {
            sha256: "fixture",
            lot: None,
            kind: Some("DOSSIERS"),
            channel: "test",
            file_name: "fixture.csv",
            size_bytes: 0,
            received_at: at(EARLY),
            received_at_override: false,
            archive_path: "",
            status: "accepted",
            lines_total: 0,
            lines_accepted: 0,
            lines_quarantined: 0,
            warnings: 0,
        }
        .insert(&mut db.conn())
        .unwrap();
        Fx {
            db,
            receipt,
            count: 0,
            persons: Default::default(),
        }
    }

    pub fn sqlite() -> Fx {
        Fx::new(TestDb::sqlite())
    }

    /// The operator person of `national` in `lot` (one per lot and national id).
    fn person(&mut self, lot: &str, national: &str) -> i64 {
        let key = (lot.to_owned(), national.to_owned());
        if let Some(id) = self.persons.get(&key) {
            return *id;
        }
        let mut c = self.db.conn();
        let id = insert_persons(
            &mut c,
            &mut [NewPerson {
                id: 0,
                lot: lot.to_owned(),
                identifiant_beneficiaire: format!("B-{national}"),
                first_seen_at: at(EARLY),
            }],
        )
        .unwrap()[0];
        set_national_ids(&mut c, &[(id, national.to_owned())]).unwrap();
        self.persons.insert(key, id);
        id
    }

    /// Records the dossier and its fiche; returns the dossier number.
    pub fn dossier(&mut self, d: D) -> String {
        self.count += 1;
        let uu = match d.uo {
            "00" => "00",
            "01" => "01",
            "2.1" => "21",
            _ => "22",
        };
        let e = day(d.engagement);
        let numero = format!("A1{}{uu}{:06}", e.format("%y%m"), self.count);
        self.fiche(&numero, d);
        numero
    }

    /// Records a fiche of dossier `numero` (created on its first fiche).
    pub fn fiche(&mut self, numero: &str, d: D) {
        let person = self.person(d.lot, d.person);
        let mut c = self.db.conn();
        let region = d.region.unwrap_or(d.lot).to_owned();
        let existing: Option<i64> = cep_store::schema::dossiers::table
            .filter(cep_store::schema::dossiers::numero_dossier.eq(numero))
            .select(cep_store::schema::dossiers::id)
            .first(&mut c)
            .optional()
            .unwrap();
        let dossier_id = match existing {
            Some(id) => id,
            None => insert_dossiers(
                &mut c,
                &mut [NewDossierRow {
                    id: 0,
                    numero_dossier: numero.to_owned(),
                    lot: d.lot.to_owned(),
                    uo: d.uo.to_owned(),
                    region_lot: region.clone(),
                    operator_person_id: person,
                    current_horodatage_utc: None,
                    date_engagement: None,
                    date_cloture: None,
                    motif_cloture: None,
                    ever_eligible: false,
                }],
            )
            .unwrap()[0],
        };
        let identity = d.postal_code.map(|cp| {
            cep_store::models::ingest::insert_identities(
                &mut c,
                &mut [NewIdentityRecord {
                    id: 0,
                    operator_person_id: person,
                    identity_hash: format!("{numero}-{cp}"),
                    nom: None,
                    nom_usage: None,
                    prenom: None,
                    sexe: None,
                    date_naissance: None,
                    nir: None,
                    adresse_numero: None,
                    adresse_type_voie: None,
                    adresse_voie: None,
                    adresse_commune: None,
                    adresse_code_postal: Some(cp.to_owned()),
                    email: None,
                    telephone: None,
                    first_seen_at: at(EARLY),
                }],
            )
            .unwrap()[0]
        });
        NewFiche {
            dossier_id,
            receipt_id: self.receipt,
            line_number: i64::from(self.count),
            horodatage: d.horodatage.to_owned(),
            horodatage_utc: at(d.horodatage),
            received_at: at(d.received),
            content_hash: format!("{numero}-{}", d.horodatage),
            identity_record_id: identity,
            residence_departement: None,
            uo: d.uo.to_owned(),
            region_lot: d.region.map(str::to_owned),
            entreprise_departement: None,
            entreprise_code_postal: None,
            entreprise_commune: None,
            structure: None,
            handicap: None,
            niveau_formation: None,
            secteur_activite: None,
            libelle_secteur: None,
            taille_entreprise: None,
            categorie_sociale: d.categorie.map(str::to_owned),
            libelle_profession: None,
            statut: d.statut.to_owned(),
            entree_entreprise: None,
            date_engagement: day(d.engagement),
            date_cloture: d.cloture.map(day),
            motif_cloture: d.motif.map(str::to_owned),
            numero_decompte: None,
            reference_bc: d.reference_bc.clone(),
            origine: None,
            motif: None,
            motif_detaille: None,
            aiguillage: None,
            date_demande_rdv: d.rdv.map(day),
            dates_interactions: d.interactions.map(str::to_owned),
            modes_contact: None,
            numero_dossier_uo21: d.uo21.clone(),
            types_service: d.types_service.map(str::to_owned),
            description_service: None,
            prestations_complementaires: d.prestations.map(str::to_owned),
            auto_prescription: d.auto_prescription,
            financement_formation: None,
            decouvertes_metiers: None,
            projet_reconversion_cpir: None,
            etat_projet_cloture: None,
            livrable_sha256: d.livrable.then(|| "ab".repeat(32)),
        }
        .insert(&mut c)
        .unwrap();
    }

    /// A purchase order `reference` (`AAAA-Lotww-UOxx-yy`).
    pub fn order(
        &mut self,
        reference: &str,
        quantity: i64,
        notified: &str,
        start: &str,
        end: &str,
    ) {
        let r: cep_domain::PurchaseOrderRef = reference.parse().unwrap();
        NewPurchaseOrder {
            reference: reference.to_owned(),
            lot: r.lot().to_string(),
            uo: r.work_unit().column_code().to_owned(),
            date_notification: day(notified),
            quantite: quantity,
            prix_unitaire_ht_cents: 10_000,
            taux_tva_bp: 2000,
            date_debut: day(start),
            date_fin: day(end),
            import_id: None,
            recorded_at: at(EARLY),
        }
        .record(&mut self.db.conn())
        .unwrap();
    }

    pub fn population(
        &mut self,
        region: &str,
        year: i32,
        dimension: &str,
        code: &str,
        active: Option<i64>,
        target: Option<i64>,
    ) {
        NewReferencePopulation {
            lot: region.to_owned(),
            annee: year,
            dimension: dimension.to_owned(),
            code: code.to_owned(),
            population_active: active,
            population_active_occupee: None,
            population_cible_cep: target,
            import_id: None,
            recorded_at: at(EARLY),
        }
        .record(&mut self.db.conn())
        .unwrap();
    }

    pub fn survey(&mut self, numero: &str, date: &str, qualite: bool, utilite: bool) {
        NewSurveyAnswer {
            numero_dossier: numero.to_owned(),
            uo: "2.1".to_owned(),
            date_reponse: day(date),
            qualite,
            utilite,
            import_id: None,
            recorded_at: at(EARLY),
        }
        .record(&mut self.db.conn())
        .unwrap();
    }

    pub fn mystery(&mut self, lot: &str, date: &str, numero: i32, conforme: bool) {
        NewMysteryContact {
            lot: lot.to_owned(),
            date_contact: day(date),
            numero,
            conforme,
            import_id: None,
            recorded_at: at(EARLY),
        }
        .record(&mut self.db.conn())
        .unwrap();
    }

    pub fn control(&mut self, numero: &str, date: &str, conforme: bool) {
        NewDeliverableControl {
            numero_dossier: numero.to_owned(),
            date_controle: day(date),
            conforme,
            import_id: None,
            recorded_at: at(EARLY),
        }
        .record(&mut self.db.conn())
        .unwrap();
    }

    /// A complaint of `lot` about person `national` (and dossier `numero`), received on
    /// `received`, known from `known` (UTC).
    pub fn complaint(
        &mut self,
        lot: &str,
        reference: &str,
        numero: Option<&str>,
        national: &str,
        received: &str,
        known: &str,
    ) {
        diesel::insert_into(complaints::table)
            .values((
                complaints::receipt_id.eq(self.receipt),
                complaints::line_number.eq(1i64),
                complaints::lot.eq(lot),
                complaints::identifiant_reclamation.eq(reference),
                complaints::horodatage.eq(known),
                complaints::horodatage_utc.eq(at(known)),
                complaints::received_at.eq(at(known)),
                complaints::content_hash.eq(reference),
                complaints::numero_dossier.eq(numero),
                complaints::identifiant_beneficiaire.eq(format!("B-{national}")),
                complaints::date_reception.eq(day(received)),
                complaints::motif_reclamation.eq("QUALITE"),
            ))
            .execute(&mut self.db.conn())
            .unwrap();
    }

    /// A mediation case for person `national` of `lot` (or dossier `numero`), opened at
    /// `opened` (UTC).
    pub fn case(&mut self, lot: &str, numero: Option<&str>, national: Option<&str>, opened: &str) {
        NewMediationCase {
            lot: lot.to_owned(),
            numero_dossier: numero.map(str::to_owned),
            identifiant_beneficiaire: national.map(|n| format!("B-{n}")),
            complaint_reference: "R".to_owned(),
            mediator: "mediateur".to_owned(),
            opened_at: at(opened),
        }
        .open(&mut self.db.conn())
        .unwrap();
    }

    /// A `MOYENS` line: FTE in hundredths for UO0, UO1, UO2.1, UO2.2, received at `known`.
    pub fn means(&mut self, lot: &str, periode: &str, fte: [i64; 4], known: &str) {
        diesel::insert_into(means::table)
            .values((
                means::receipt_id.eq(self.receipt),
                means::line_number.eq(1i64),
                means::lot.eq(lot),
                means::periode.eq(periode),
                means::horodatage.eq(known),
                means::horodatage_utc.eq(at(known)),
                means::received_at.eq(at(known)),
                means::content_hash.eq(format!("{lot}{periode}{known}")),
                means::etp_uo0_hundredths.eq(fte[0]),
                means::etp_uo1_hundredths.eq(fte[1]),
                means::etp_uo21_hundredths.eq(fte[2]),
                means::etp_uo22_hundredths.eq(fte[3]),
                means::nb_implantations.eq(1),
                means::implantations.eq("x"),
                means::autres_points_acces.eq(""),
                means::cout_jour_etp_uo0_cents.eq(0i64),
                means::cout_jour_etp_uo1_cents.eq(0i64),
                means::cout_jour_etp_uo21_cents.eq(0i64),
                means::cout_jour_etp_uo22_cents.eq(0i64),
                means::masse_salariale_cents.eq(0i64),
                means::frais_immobiliers_cents.eq(0i64),
                means::frais_si_cents.eq(0i64),
                means::frais_promotion_cents.eq(0i64),
                means::frais_partenariats_cents.eq(0i64),
                means::autres_frais_cents.eq(0i64),
            ))
            .execute(&mut self.db.conn())
            .unwrap();
    }

    /// Every value of `period` at `cutoff` (UTC), default billing rules.
    pub fn compute(&self, period: &str, cutoff: &str) -> Values {
        let period: Period = period.parse().unwrap();
        let v =
            cep_indicators::compute_at(&mut self.db.conn(), period, at(cutoff), Default::default())
                .unwrap();
        Values(v)
    }

    pub fn prepared(&self, cutoff: &str) -> cep_indicators::Prepared {
        let inputs =
            cep_indicators::load::load(&mut self.db.conn(), at(cutoff), Default::default())
                .unwrap();
        cep_indicators::Prepared::new(&inputs).unwrap()
    }
}

/// A run's values, looked up by code, lot and category.
#[derive(Debug)]
pub struct Values(pub Vec<IndicatorValue>);

impl Values {
    pub fn get(&self, code: &str, lot: &str) -> &IndicatorValue {
        self.cat(code, lot, "")
    }
    pub fn cat(&self, code: &str, lot: &str, category: &str) -> &IndicatorValue {
        self.0
            .iter()
            .find(|v| v.code == code && v.lot == lot && v.category == category)
            .unwrap_or_else(|| panic!("no value {code} {lot} {category:?}"))
    }
    /// (numerator, denominator, value).
    pub fn ndv(&self, code: &str, lot: &str) -> (i64, Option<f64>, Option<f64>) {
        let v = self.get(code, lot);
        (v.numerator, v.denominator, v.value)
    }
}

pub fn lot(n: u8) -> String {
    Lot::new(n).unwrap().to_string()
}
