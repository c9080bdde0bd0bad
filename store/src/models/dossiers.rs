//! Operator persons, their identity records (personal data, kept apart), dossiers and fiches
//! (every accepted version, DESIGN decision 2: a dossier's state "as known at T" is its latest
//! fiche, by `horodatage`, among those received by T).

use crate::schema::{dossiers, fiches, identity_records, operator_persons};
use crate::{DbConnection, Result, StoreError, insert_returning_id};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// An operator's own person id within a lot (`identifiant_beneficiaire`).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = operator_persons)]
pub struct OperatorPerson {
    pub id: i64,
    pub lot: String,
    pub identifiant_beneficiaire: String,
    pub national_person_id: Option<String>,
    pub first_seen_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = operator_persons)]
struct NewOperatorPerson<'a> {
    lot: &'a str,
    identifiant_beneficiaire: &'a str,
    first_seen_at: NaiveDateTime,
}

impl OperatorPerson {
    /// The id of (lot, identifiant_beneficiaire), created on first sight.
    pub fn get_or_create(
        conn: &mut DbConnection,
        lot: &str,
        identifiant: &str,
        at: NaiveDateTime,
    ) -> Result<i64> {
        let found = operator_persons::table
            .filter(operator_persons::lot.eq(lot))
            .filter(operator_persons::identifiant_beneficiaire.eq(identifiant))
            .select(operator_persons::id)
            .first::<i64>(conn)
            .optional()
            .map_err(StoreError::query("looking up an operator person"))?;
        match found {
            Some(id) => Ok(id),
            None => insert_returning_id!(
                conn,
                operator_persons::table,
                operator_persons::id,
                &NewOperatorPerson {
                    lot,
                    identifiant_beneficiaire: identifiant,
                    first_seen_at: at
                }
            )
            .map_err(StoreError::query("creating an operator person")),
        }
    }

    /// Whether the lot has a beneficiary with this `identifiant_beneficiaire`.
    pub fn exists(conn: &mut DbConnection, lot: &str, identifiant: &str) -> Result<bool> {
        diesel::select(diesel::dsl::exists(
            operator_persons::table
                .filter(operator_persons::lot.eq(lot))
                .filter(operator_persons::identifiant_beneficiaire.eq(identifiant)),
        ))
        .get_result(conn)
        .map_err(StoreError::query("looking up an operator person"))
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<OperatorPerson> {
        operator_persons::table
            .find(id)
            .select(OperatorPerson::as_select())
            .first(conn)
            .map_err(StoreError::query("reading an operator person"))
    }
}

/// One distinct set of identity values received for an operator person. Personal data:
/// only identity resolution and an open mediation case read it.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = identity_records)]
pub struct IdentityRecord {
    pub id: i64,
    pub operator_person_id: i64,
    pub identity_hash: String,
    pub nom: Option<String>,
    pub nom_usage: Option<String>,
    pub prenom: Option<String>,
    pub sexe: Option<String>,
    pub date_naissance: Option<NaiveDate>,
    pub nir: Option<String>,
    pub adresse_numero: Option<String>,
    pub adresse_type_voie: Option<String>,
    pub adresse_voie: Option<String>,
    pub adresse_commune: Option<String>,
    pub adresse_code_postal: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub first_seen_at: NaiveDateTime,
}

impl std::fmt::Debug for IdentityRecord {
    // Personal data never goes to logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityRecord")
            .field("id", &self.id)
            .field("operator_person_id", &self.operator_person_id)
            .finish_non_exhaustive()
    }
}

/// The identity values of one fiche, before they are recorded.
#[derive(Clone, PartialEq, Eq, Default, Insertable)]
#[diesel(table_name = identity_records, treat_none_as_default_value = false)]
pub struct NewIdentityRecord {
    /// Reserved by the insert function; leave 0.
    pub id: i64,
    pub operator_person_id: i64,
    pub identity_hash: String,
    pub nom: Option<String>,
    pub nom_usage: Option<String>,
    pub prenom: Option<String>,
    pub sexe: Option<String>,
    pub date_naissance: Option<NaiveDate>,
    pub nir: Option<String>,
    pub adresse_numero: Option<String>,
    pub adresse_type_voie: Option<String>,
    pub adresse_voie: Option<String>,
    pub adresse_commune: Option<String>,
    pub adresse_code_postal: Option<String>,
    pub email: Option<String>,
    pub telephone: Option<String>,
    pub first_seen_at: NaiveDateTime,
}

impl std::fmt::Debug for NewIdentityRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewIdentityRecord")
            .field("operator_person_id", &self.operator_person_id)
            .finish_non_exhaustive()
    }
}

impl NewIdentityRecord {
    /// Records these identity values for the person unless the same values (same
    /// `identity_hash`) are already recorded; returns the record's id either way.
    pub fn record(&self, conn: &mut DbConnection) -> Result<i64> {
        let found = identity_records::table
            .filter(identity_records::operator_person_id.eq(self.operator_person_id))
            .filter(identity_records::identity_hash.eq(&self.identity_hash))
            .select(identity_records::id)
            .first::<i64>(conn)
            .optional()
            .map_err(StoreError::query("looking up an identity record"))?;
        match found {
            Some(id) => Ok(id),
            None => Ok(crate::models::ingest::insert_identities(conn, &mut [self.clone()])?[0]),
        }
    }
}

impl IdentityRecord {
    /// Every identity record of an operator person, oldest first.
    pub fn of_person(
        conn: &mut DbConnection,
        operator_person_id: i64,
    ) -> Result<Vec<IdentityRecord>> {
        identity_records::table
            .filter(identity_records::operator_person_id.eq(operator_person_id))
            .order(identity_records::id)
            .select(IdentityRecord::as_select())
            .load(conn)
            .map_err(StoreError::query("reading identity records"))
    }
}

/// A work-unit dossier: its immutable identity (point 13) and a pointer to its latest fiche.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct Dossier {
    pub id: i64,
    pub numero_dossier: String,
    pub lot: String,
    pub uo: String,
    pub region_lot: String,
    pub operator_person_id: i64,
    pub current_horodatage_utc: Option<NaiveDateTime>,
    pub date_engagement: Option<NaiveDate>,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub ever_eligible: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = dossiers)]
pub struct NewDossier<'a> {
    pub numero_dossier: &'a str,
    pub lot: &'a str,
    pub uo: &'a str,
    pub region_lot: &'a str,
    pub operator_person_id: i64,
}

impl NewDossier<'_> {
    pub fn insert(&self, conn: &mut DbConnection) -> Result<i64> {
        insert_returning_id!(conn, dossiers::table, dossiers::id, self)
            .map_err(StoreError::query("creating a dossier"))
    }
}

impl Dossier {
    /// The lot of each of these dossiers that exists.
    pub fn lots_of(
        conn: &mut DbConnection,
        numeros: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in numeros.chunks(900) {
            out.extend(
                dossiers::table
                    .filter(dossiers::numero_dossier.eq_any(chunk))
                    .select((dossiers::numero_dossier, dossiers::lot))
                    .load::<(String, String)>(conn)
                    .map_err(StoreError::query("reading the lots of dossiers"))?,
            );
        }
        Ok(out)
    }

    pub fn find(conn: &mut DbConnection, numero_dossier: &str) -> Result<Option<Dossier>> {
        dossiers::table
            .filter(dossiers::numero_dossier.eq(numero_dossier))
            .select(Dossier::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("looking up a dossier"))
    }
}

/// Dossiers with at least one fiche of one of `statuses` received by `cutoff` (eligibility
/// continuity, indicators-v1 point 10).
pub fn dossiers_with_eligible_fiche(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    statuses: impl IntoIterator<Item = &'static str>,
) -> Result<Vec<i64>> {
    let statuses: Vec<&str> = statuses.into_iter().collect();
    fiches::table
        .filter(fiches::received_at.le(cutoff))
        .filter(fiches::statut.eq_any(statuses))
        .select(fiches::dossier_id)
        .distinct()
        .load(conn)
        .map_err(StoreError::query("reading dossiers with an eligible fiche"))
}

/// The columns of a dossier's state read as of a cut-off — by billing, the indicators and
/// the committee documents, through one view (`cep_billing::asof`) — with the postal code of
/// the fiche's identity record (the Alsace-Moselle calendar of 8.4, point 11): the only
/// personal value read, and only to choose a calendar.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
#[diesel(table_name = fiches)]
pub struct StateFiche {
    pub dossier_id: i64,
    pub horodatage_utc: NaiveDateTime,
    pub statut: String,
    pub categorie_sociale: Option<String>,
    pub date_engagement: NaiveDate,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub numero_decompte: Option<String>,
    pub reference_bc: Option<String>,
    pub numero_dossier_uo21: Option<String>,
    pub date_demande_rdv: Option<NaiveDate>,
    pub dates_interactions: Option<String>,
    pub types_service: Option<String>,
    pub prestations_complementaires: Option<String>,
    pub auto_prescription: Option<bool>,
    pub livrable_sha256: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub adresse_code_postal: Option<String>,
}

impl StateFiche {
    /// Every dossier's state at `cutoff`, these columns only (see [`Fiche::states_as_of`]).
    pub fn states_as_of(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<Vec<(Dossier, StateFiche)>> {
        latest_as_of(
            conn,
            cutoff,
            "f.dossier_id, f.horodatage_utc, f.statut, f.categorie_sociale, f.date_engagement, \
             f.date_cloture, f.motif_cloture, f.numero_decompte, f.reference_bc, \
             f.numero_dossier_uo21, f.date_demande_rdv, f.dates_interactions, f.types_service, \
             f.prestations_complementaires, f.auto_prescription, f.livrable_sha256, \
             (SELECT i.adresse_code_postal FROM identity_records i \
              WHERE i.id = f.identity_record_id) AS adresse_code_postal",
        )
    }
}

impl OfDossier for StateFiche {
    fn dossier_id(&self) -> i64 {
        self.dossier_id
    }
}

/// A row of `fiches` that knows its dossier.
trait OfDossier {
    fn dossier_id(&self) -> i64;
}

impl OfDossier for Fiche {
    fn dossier_id(&self) -> i64 {
        self.dossier_id
    }
}

/// For each dossier with a fiche received by `cutoff`, its latest such fiche by `horodatage`
/// (`columns` of it), with the dossier, in dossier id order.
fn latest_as_of<T>(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    columns: &str,
) -> Result<Vec<(Dossier, T)>>
where
    T: OfDossier
        + QueryableByName<diesel::pg::Pg>
        + QueryableByName<diesel::sqlite::Sqlite>
        + 'static,
{
    let latest = format!(
        "SELECT {columns} FROM fiches f JOIN \
         (SELECT dossier_id, MAX(horodatage_utc) AS h FROM fiches \
          WHERE received_at <= {{p}} GROUP BY dossier_id) l \
         ON f.dossier_id = l.dossier_id AND f.horodatage_utc = l.h \
         ORDER BY f.dossier_id"
    );
    let rows: Vec<T> = match conn {
        DbConnection::Pg(c) => diesel::sql_query(latest.replace("{p}", "$1"))
            .bind::<diesel::sql_types::Timestamp, _>(cutoff)
            .load(c),
        DbConnection::Sqlite(c) => diesel::sql_query(latest.replace("{p}", "?"))
            .bind::<diesel::sql_types::Timestamp, _>(cutoff)
            .load(c),
    }
    .map_err(StoreError::query(
        "reading dossiers' states as of a cut-off",
    ))?;
    let dossiers: Vec<Dossier> = dossiers::table
        .order(dossiers::id)
        .select(Dossier::as_select())
        .load(conn)
        .map_err(StoreError::query("reading dossiers"))?;
    let mut out = Vec::with_capacity(rows.len());
    let mut d = dossiers.into_iter().peekable();
    for f in rows {
        while d.peek().is_some_and(|x| x.id < f.dossier_id()) {
            d.next();
        }
        if let Some(x) = d.peek().filter(|x| x.id == f.dossier_id()) {
            out.push((x.clone(), f));
        }
    }
    Ok(out)
}

/// An accepted fiche: the activity data of one dossier at one `horodatage`. Identity values
/// are not here but in [`IdentityRecord`], referenced by `identity_record_id`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = fiches)]
pub struct Fiche {
    pub id: i64,
    pub dossier_id: i64,
    pub receipt_id: i64,
    pub line_number: i64,
    pub horodatage: String,
    pub horodatage_utc: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub content_hash: String,
    pub identity_record_id: Option<i64>,
    pub residence_departement: Option<String>,
    pub uo: String,
    pub region_lot: Option<String>,
    pub entreprise_departement: Option<String>,
    pub entreprise_code_postal: Option<String>,
    pub entreprise_commune: Option<String>,
    pub structure: Option<String>,
    pub handicap: Option<String>,
    pub niveau_formation: Option<String>,
    pub secteur_activite: Option<String>,
    pub libelle_secteur: Option<String>,
    pub taille_entreprise: Option<String>,
    pub categorie_sociale: Option<String>,
    pub libelle_profession: Option<String>,
    pub statut: String,
    pub entree_entreprise: Option<String>,
    pub date_engagement: NaiveDate,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub numero_decompte: Option<String>,
    pub reference_bc: Option<String>,
    pub origine: Option<String>,
    pub motif: Option<String>,
    pub motif_detaille: Option<String>,
    pub aiguillage: Option<String>,
    pub date_demande_rdv: Option<NaiveDate>,
    pub dates_interactions: Option<String>,
    pub modes_contact: Option<String>,
    pub numero_dossier_uo21: Option<String>,
    pub types_service: Option<String>,
    pub description_service: Option<String>,
    pub prestations_complementaires: Option<String>,
    pub auto_prescription: Option<bool>,
    pub financement_formation: Option<String>,
    pub decouvertes_metiers: Option<String>,
    pub projet_reconversion_cpir: Option<bool>,
    pub etat_projet_cloture: Option<String>,
    pub livrable_sha256: Option<String>,
}

/// A fiche about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Insertable)]
#[diesel(table_name = fiches, treat_none_as_default_value = false)]
pub struct NewFiche {
    pub dossier_id: i64,
    pub receipt_id: i64,
    pub line_number: i64,
    pub horodatage: String,
    pub horodatage_utc: NaiveDateTime,
    pub received_at: NaiveDateTime,
    pub content_hash: String,
    pub identity_record_id: Option<i64>,
    pub residence_departement: Option<String>,
    pub uo: String,
    pub region_lot: Option<String>,
    pub entreprise_departement: Option<String>,
    pub entreprise_code_postal: Option<String>,
    pub entreprise_commune: Option<String>,
    pub structure: Option<String>,
    pub handicap: Option<String>,
    pub niveau_formation: Option<String>,
    pub secteur_activite: Option<String>,
    pub libelle_secteur: Option<String>,
    pub taille_entreprise: Option<String>,
    pub categorie_sociale: Option<String>,
    pub libelle_profession: Option<String>,
    pub statut: String,
    pub entree_entreprise: Option<String>,
    pub date_engagement: NaiveDate,
    pub date_cloture: Option<NaiveDate>,
    pub motif_cloture: Option<String>,
    pub numero_decompte: Option<String>,
    pub reference_bc: Option<String>,
    pub origine: Option<String>,
    pub motif: Option<String>,
    pub motif_detaille: Option<String>,
    pub aiguillage: Option<String>,
    pub date_demande_rdv: Option<NaiveDate>,
    pub dates_interactions: Option<String>,
    pub modes_contact: Option<String>,
    pub numero_dossier_uo21: Option<String>,
    pub types_service: Option<String>,
    pub description_service: Option<String>,
    pub prestations_complementaires: Option<String>,
    pub auto_prescription: Option<bool>,
    pub financement_formation: Option<String>,
    pub decouvertes_metiers: Option<String>,
    pub projet_reconversion_cpir: Option<bool>,
    pub etat_projet_cloture: Option<String>,
    pub livrable_sha256: Option<String>,
}

impl NewFiche {
    /// Records the fiche and, when it is the latest by `horodatage`, makes it the dossier's
    /// current state. Returns the fiche id and whether it became current (`false`: an older
    /// fiche kept in history only, `FICHE_STALE`).
    pub fn insert(&self, conn: &mut DbConnection) -> Result<(i64, bool)> {
        conn.transaction(|conn| {
            let id = insert_returning_id!(conn, fiches::table, fiches::id, self)
                .map_err(StoreError::query("recording a fiche"))?;
            let current: Option<NaiveDateTime> = dossiers::table
                .find(self.dossier_id)
                .select(dossiers::current_horodatage_utc)
                .first(conn)
                .map_err(StoreError::query("reading a dossier's current state"))?;
            let newer = current.is_none_or(|c| self.horodatage_utc > c);
            if newer {
                diesel::update(dossiers::table.find(self.dossier_id))
                    .set((
                        dossiers::current_horodatage_utc.eq(Some(self.horodatage_utc)),
                        dossiers::date_engagement.eq(Some(self.date_engagement)),
                        dossiers::date_cloture.eq(self.date_cloture),
                        dossiers::motif_cloture.eq(self.motif_cloture.as_deref()),
                    ))
                    .execute(conn)
                    .map_err(StoreError::query("updating a dossier's current state"))?;
            }
            Ok((id, newer))
        })
    }
}

impl Fiche {
    /// The dossier's state as known at `cutoff`: its latest fiche by `horodatage` among those
    /// received by `cutoff` (DESIGN decision 2).
    pub fn state_as_of(
        conn: &mut DbConnection,
        numero_dossier: &str,
        cutoff: NaiveDateTime,
    ) -> Result<Option<Fiche>> {
        fiches::table
            .inner_join(dossiers::table)
            .filter(dossiers::numero_dossier.eq(numero_dossier))
            .filter(fiches::received_at.le(cutoff))
            .order((fiches::horodatage_utc.desc(), fiches::id.desc()))
            .select(Fiche::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query(
                "reading a dossier's state as of a cut-off",
            ))
    }

    /// Every dossier's state as known at `cutoff` (DESIGN decision 2): for each dossier with a
    /// fiche received by `cutoff`, its latest such fiche by `horodatage`, with the dossier.
    /// In dossier id order. The base of every indicator and statement computed at a cut-off.
    pub fn states_as_of(
        conn: &mut DbConnection,
        cutoff: NaiveDateTime,
    ) -> Result<Vec<(Dossier, Fiche)>> {
        latest_as_of(conn, cutoff, "f.*")
    }

    /// The dossier's current state (its latest fiche, whenever received).
    pub fn current(conn: &mut DbConnection, numero_dossier: &str) -> Result<Option<Fiche>> {
        fiches::table
            .inner_join(dossiers::table)
            .filter(dossiers::numero_dossier.eq(numero_dossier))
            .filter(dossiers::current_horodatage_utc.eq(fiches::horodatage_utc.nullable()))
            .select(Fiche::as_select())
            .first(conn)
            .optional()
            .map_err(StoreError::query("reading a dossier's current state"))
    }

    /// Every fiche of the dossier, by `horodatage`.
    pub fn history(conn: &mut DbConnection, numero_dossier: &str) -> Result<Vec<Fiche>> {
        fiches::table
            .inner_join(dossiers::table)
            .filter(dossiers::numero_dossier.eq(numero_dossier))
            .order((fiches::horodatage_utc, fiches::id))
            .select(Fiche::as_select())
            .load(conn)
            .map_err(StoreError::query("reading a dossier's history"))
    }
}
