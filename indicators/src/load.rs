//! Reads the store as of a data cut-off into [`Inputs`] (DESIGN decision 2): every dossier as
//! billing's one view of the cut-off sees it ([`cep_billing::AsOf`]: latest fiche received by
//! then, effective closure, eligibility, billing verdict); buyer-side rows as currently
//! recorded; complaints and means in their latest version received by the cut-off; mediation
//! cases opened by then.

use crate::IndicatorError;
use crate::inputs::{
    ComplaintFacts, ControlFacts, Dimension, DossierFacts, Inputs, MeansFacts, MysteryFacts,
    OrderFacts, PopulationFacts, SurveyFacts,
};
use cep_billing::AsOf;
use cep_domain::billable::BillingRules;
use cep_domain::mediation::{CaseRef, ComplaintRef, escalates};
use cep_domain::{ClosureKind, Lot, WorkUnit, paris};
use cep_store::DbConnection;
use cep_store::models::buyer::{
    DeliverableControl, MysteryContact, PurchaseOrder, ReferencePopulation, SurveyAnswer,
};
use cep_store::models::indicators::{ComplaintState, MeansState, MediationCase};
use chrono::NaiveDateTime;
use std::collections::HashMap;

/// Loads everything the indicators read, as of `cutoff` (UTC), billing per `rules`.
pub fn load(
    conn: &mut DbConnection,
    cutoff: NaiveDateTime,
    rules: BillingRules,
) -> Result<Inputs, IndicatorError> {
    let asof = AsOf::load(conn, cutoff, rules)?;
    load_from(conn, &asof)
}

/// Everything the indicators read, the dossiers taken from a view of the cut-off already
/// made (the documents of the same cut-off read the same view).
pub fn load_from(conn: &mut DbConnection, asof: &AsOf) -> Result<Inputs, IndicatorError> {
    let cutoff = asof.cutoff;
    let dossiers = dossiers(asof);
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
    let cases: Vec<(Lot, &MediationCase)> = cases
        .iter()
        .filter_map(|m| Some((Lot::parse(&m.lot).ok()?, m)))
        .collect();
    let complaints = ComplaintState::as_of(conn, cutoff)?
        .into_iter()
        .filter_map(|c| {
            let lot = Lot::parse(&c.lot).ok()?;
            let complaint = ComplaintRef {
                lot,
                numero_dossier: c.numero_dossier.as_deref(),
                identifiant_beneficiaire: &c.identifiant_beneficiaire,
                received: c.date_reception,
            };
            let mediated = cases.iter().any(|(l, m)| {
                let case = CaseRef {
                    lot: *l,
                    numero_dossier: m.numero_dossier.as_deref(),
                    identifiant_beneficiaire: m.identifiant_beneficiaire.as_deref(),
                    opened: paris::date_of(m.opened_at),
                };
                escalates(&case, &complaint, today)
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

/// Every dossier known at the cut-off, projected from billing's view of it.
fn dossiers(asof: &AsOf) -> Vec<DossierFacts> {
    asof.dossiers
        .iter()
        .map(|d| {
            let f = &d.fiche;
            DossierFacts {
                numero: d.numero.clone(),
                lot: d.lot,
                region: d.region,
                uo: d.uo,
                person: d.person.clone(),
                statut: f.statut.clone(),
                categorie_sociale: f.categorie_sociale.clone(),
                horodatage: f.horodatage_utc,
                eligible: d.eligible,
                engagement: f.date_engagement,
                deadline: d.deadline,
                closure: d.closure.map(|c| c.date),
                voluntary: d.closure.is_some_and(|c| c.kind == ClosureKind::Voluntary),
                order: d.order().map(|o| o.to_string()),
                consumes: d
                    .verdict
                    .as_ref()
                    .and_then(|v| v.consumes)
                    .map(|o| o.to_string()),
                complementary: list(f.prestations_complementaires.as_deref())
                    .any(|p| p != "AUCUNE" && p != "AUCUN"),
                auto_prescription: f.auto_prescription,
                types_service: list(f.types_service.as_deref())
                    .map(str::to_owned)
                    .collect(),
                rdv_request: f.date_demande_rdv,
                first_interaction: d.first_interaction,
                rdv_delay: d.rdv_delay,
            }
        })
        .collect()
}

/// The values of a `|` list field (empty values dropped).
fn list(field: Option<&str>) -> impl Iterator<Item = &str> {
    field
        .unwrap_or("")
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
