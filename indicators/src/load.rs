//! Reads the store as of a data cut-off into [`Inputs`] (DESIGN decision 2): every dossier's
//! latest fiche received by the cut-off, with its effective closure, eligibility and billing
//! verdict decided by the domain and billing rules; buyer-side rows as currently recorded;
//! complaints and means in their latest version received by the cut-off; mediation cases
//! opened by then.

use crate::IndicatorError;
use crate::inputs::{
    ComplaintFacts, ControlFacts, Dimension, DossierFacts, Inputs, MeansFacts, MysteryFacts,
    OrderFacts, PopulationFacts, SurveyFacts,
};
use cep_domain::billable::BillingRules;
use cep_domain::deadline::UnitDates;
use cep_domain::reference::is_eligible;
use cep_domain::{ClosureKind, ConsumptionRef, Lot, WorkUnit, paris};
use cep_store::DbConnection;
use cep_store::models::buyer::{
    DeliverableControl, MysteryContact, PurchaseOrder, ReferencePopulation, SurveyAnswer,
};
use cep_store::models::dossiers::IndicatorFiche;
use cep_store::models::indicators::{ComplaintState, MeansState, MediationCase};
use cep_store::models::link::national_ids;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::{HashMap, HashSet};

/// Loads everything the indicators read, as of `cutoff` (UTC), billing per `rules`.
pub fn load(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Inputs, IndicatorError> {
    let persons = national_ids(conn)?;
    let dossiers = dossiers(conn, cutoff, rules, &persons)?;
    let lot_of: HashMap<&str, Lot> = dossiers
        .iter()
        .map(|d| (d.numero.as_str(), d.lot))
        .collect();
    let orders = PurchaseOrder::all_current(conn)?
        .into_iter()
        .filter_map(|o| {
            Some(OrderFacts {
                lot: Lot::parse(&o.lot).ok()?,
                uo: WorkUnit::from_column_code(&o.uo).ok()?,
                reference: o.reference,
                notified: o.date_notification,
                quantity: o.quantite,
                start: o.date_debut,
                end: o.date_fin,
            })
        })
        .collect();
    let populations = ReferencePopulation::all_current(conn)?
        .into_iter()
        .filter_map(|p| {
            Some(PopulationFacts {
                region: Lot::parse(&p.lot).ok()?,
                year: p.annee,
                dimension: Dimension::parse(&p.dimension)?,
                code: p.code,
                active: p.population_active,
                target: p.population_cible_cep,
            })
        })
        .collect();
    let surveys = SurveyAnswer::all_current(conn)?
        .into_iter()
        .map(|a| SurveyFacts {
            lot: lot_of.get(a.numero_dossier.as_str()).copied(),
            numero: a.numero_dossier,
            date: a.date_reponse,
            satisfied: a.qualite && a.utilite,
        })
        .collect();
    let mystery = MysteryContact::all_current(conn)?
        .into_iter()
        .filter_map(|m| {
            Some(MysteryFacts {
                lot: Lot::parse(&m.lot).ok()?,
                date: m.date_contact,
                number: m.numero,
                compliant: m.conforme,
            })
        })
        .collect();
    let controls = DeliverableControl::all_current(conn)?
        .into_iter()
        .map(|c| ControlFacts {
            lot: lot_of.get(c.numero_dossier.as_str()).copied(),
            numero: c.numero_dossier,
            date: c.date_controle,
            compliant: c.conforme,
        })
        .collect();
    let today = paris::date_of(cutoff);
    let cases = MediationCase::opened_by(conn, cutoff)?;
    let complaints = ComplaintState::as_of(conn, cutoff)?
        .into_iter()
        .filter_map(|c| {
            let lot = Lot::parse(&c.lot).ok()?;
            let mediated = cases.iter().any(|m| {
                let opened = paris::date_of(m.opened_at);
                let names_it = m.lot == c.lot
                    && (m.numero_dossier.is_some() && m.numero_dossier == c.numero_dossier
                        || m.identifiant_beneficiaire.as_deref()
                            == Some(c.identifiant_beneficiaire.as_str()));
                names_it && opened >= c.date_reception && opened <= today
            });
            Some(ComplaintFacts {
                lot,
                reference: c.identifiant_reclamation,
                received: c.date_reception,
                mediated,
            })
        })
        .collect();
    let means = MeansState::as_of(conn, cutoff)?
        .into_iter()
        .filter_map(|m| {
            Some(MeansFacts {
                lot: Lot::parse(&m.lot).ok()?,
                period: m.periode,
                fte_hundredths: [
                    m.etp_uo0_hundredths,
                    m.etp_uo1_hundredths,
                    m.etp_uo21_hundredths,
                    m.etp_uo22_hundredths,
                ],
            })
        })
        .collect();
    Ok(Inputs {
        dossiers,
        orders,
        populations,
        surveys,
        mystery,
        controls,
        complaints,
        means,
    })
}

/// Every dossier known at `cutoff`, with what the domain and billing derive from it.
fn dossiers(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
    persons: &HashMap<i64, String>,
) -> Result<Vec<DossierFacts>, IndicatorError> {
    let today = paris::date_of(cutoff);
    let states = IndicatorFiche::states_as_of(conn, cutoff)?;
    let consumes: HashMap<String, String> =
        cep_billing::units_with_persons(conn, cutoff, rules, persons)?
            .into_iter()
            .filter_map(|u| Some((u.numero_dossier, u.verdict.consumes?.to_string())))
            .collect();
    let ever_eligible: HashSet<i64> = cep_store::models::dossiers::dossiers_with_eligible_fiche(
        conn,
        cutoff,
        cep_domain::reference::ELIGIBLE_STATUSES,
    )?
    .into_iter()
    .collect();
    let engagement_of: HashMap<&str, NaiveDate> = states
        .iter()
        .map(|(d, f)| (d.numero_dossier.as_str(), f.date_engagement))
        .collect();
    let person_of = |operator_person: i64| match persons.get(&operator_person) {
        Some(p) => p.clone(),
        None => format!("op:{operator_person}"),
    };
    // Each person's earliest UO1/UO2 engagement (continuity, point 10).
    let mut first_engagement: HashMap<String, NaiveDate> = HashMap::new();
    for (d, f) in &states {
        if d.uo != WorkUnit::Uo0.column_code() {
            let e = first_engagement
                .entry(person_of(d.operator_person_id))
                .or_insert(f.date_engagement);
            *e = (*e).min(f.date_engagement);
        }
    }

    let mut out = Vec::with_capacity(states.len());
    for (d, f) in &states {
        let (Ok(uo), Ok(lot)) = (WorkUnit::from_column_code(&d.uo), Lot::parse(&d.lot)) else {
            continue;
        };
        let region = if lot.is_backup() {
            Lot::parse(&d.region_lot).unwrap_or(lot)
        } else {
            lot
        };
        let person = person_of(d.operator_person_id);
        let uo21 = f
            .numero_dossier_uo21
            .as_deref()
            .and_then(|n| engagement_of.get(n).copied());
        let dates = UnitDates::of_fiche(
            uo,
            f.date_engagement,
            uo21,
            f.date_cloture,
            f.motif_cloture.as_deref(),
        );
        let closure = dates.effective_closure(today);
        let in_continuity = uo == WorkUnit::Uo22
            || ever_eligible.contains(&d.id)
            || first_engagement
                .get(&person)
                .is_some_and(|e| *e < f.date_engagement);
        let first_interaction = f
            .dates_interactions
            .as_deref()
            .and_then(cep_domain::first_interaction);
        let rdv_delay = cep_domain::rdv_delay(
            region,
            f.adresse_code_postal.as_deref(),
            f.date_demande_rdv,
            first_interaction,
        );
        out.push(DossierFacts {
            numero: d.numero_dossier.clone(),
            lot,
            region,
            uo,
            person,
            statut: f.statut.clone(),
            categorie_sociale: f.categorie_sociale.clone(),
            horodatage: f.horodatage_utc,
            eligible: is_eligible(&f.statut, in_continuity),
            engagement: f.date_engagement,
            deadline: dates.deadline,
            closure: closure.map(|c| c.date),
            voluntary: closure.is_some_and(|c| c.kind == ClosureKind::Voluntary),
            order: f
                .reference_bc
                .as_deref()
                .and_then(|r| r.parse::<ConsumptionRef>().ok())
                .map(|c| c.order().to_string()),
            consumes: consumes.get(&d.numero_dossier).cloned(),
            complementary: list(f.prestations_complementaires.as_deref())
                .any(|p| p != "AUCUNE" && p != "AUCUN"),
            auto_prescription: f.auto_prescription,
            types_service: list(f.types_service.as_deref())
                .map(str::to_owned)
                .collect(),
            rdv_request: f.date_demande_rdv,
            first_interaction,
            rdv_delay,
        });
    }
    Ok(out)
}

/// The values of a `|` list field (empty values dropped).
fn list(field: Option<&str>) -> impl Iterator<Item = &str> {
    field
        .unwrap_or("")
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
