//! Generated operator persons (`cep_synth::people`) as the linker and the store take them: for
//! the tests and `cep bench link` (feature `synth`).

use crate::record::IdentityFields;
use cep_store::models::dossiers::NewIdentityRecord;
use cep_store::models::ingest::{NewPerson, insert_identities, insert_persons};
use cep_store::models::now_utc;
use cep_store::{DbConnection, StoreError};
use cep_synth::PersonRecord;

/// The identity fields of a generated record.
pub fn fields(r: &PersonRecord) -> IdentityFields {
    IdentityFields {
        lot: Some(r.lot.number()),
        nom: Some(r.nom.clone()),
        nom_usage: r.nom_usage.clone(),
        prenom: Some(r.prenom.clone()),
        sexe: Some(r.sexe),
        date_naissance: Some(r.date_naissance),
        nir: r.nir.clone(),
        email: Some(r.email.clone()),
        code_postal: Some(r.code_postal.clone()),
        commune: Some(r.commune.clone()),
    }
}

/// Writes generated records as ingestion would: one operator person and one identity record
/// each (the caller chooses the transaction).
pub fn write(conn: &mut DbConnection, records: &[PersonRecord]) -> Result<(), StoreError> {
    let mut persons: Vec<NewPerson> = records
        .iter()
        .map(|r| NewPerson {
            id: 0,
            lot: r.lot.to_string(),
            identifiant_beneficiaire: r.identifiant_beneficiaire.clone(),
            first_seen_at: now_utc(),
        })
        .collect();
    let ids = insert_persons(conn, &mut persons)?;
    let mut identities: Vec<NewIdentityRecord> = records
        .iter()
        .zip(ids)
        .map(|(r, id)| identity_record(id, r, &format!("generated-{id}")))
        .collect();
    insert_identities(conn, &mut identities)?;
    Ok(())
}

/// The identity record of a generated record for operator person `operator_person_id`.
pub fn identity_record(
    operator_person_id: i64,
    r: &PersonRecord,
    identity_hash: &str,
) -> NewIdentityRecord {
    NewIdentityRecord {
        id: 0,
        operator_person_id,
        identity_hash: identity_hash.to_owned(),
        nom: Some(r.nom.clone()),
        nom_usage: r.nom_usage.clone(),
        prenom: Some(r.prenom.clone()),
        sexe: Some(r.sexe.code().to_owned()),
        date_naissance: Some(r.date_naissance),
        nir: r.nir.clone(),
        adresse_numero: None,
        adresse_type_voie: None,
        adresse_voie: None,
        adresse_commune: Some(r.commune.clone()),
        adresse_code_postal: Some(r.code_postal.clone()),
        email: Some(r.email.clone()),
        telephone: None,
        first_seen_at: now_utc(),
    }
}
