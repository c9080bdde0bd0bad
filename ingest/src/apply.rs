//! Layer (f) of point 9 and the writes: one batch of `DOSSIERS` lines at a time, in file
//! order, each line seeing the lines accepted before it (point 12), inside the file's
//! transaction.

use crate::anomaly::{AnomalyCode as C, LineAnomalies, Severity};
use crate::dossier::{self, FicheValues, col};
use crate::pipeline::{Context, IngestError, Run};
use crate::source::Item;
use cep_domain::WorkUnit;
use cep_domain::deadline::{ClosureKind, ClosureMotif, UnitDates, deadline};
use cep_store::DbConnection;
use cep_store::models::dossiers::{NewFiche, NewIdentityRecord};
use cep_store::models::ingest::{
    self as q, DossierState, NewConsumptionRef, NewDossierRow, NewPerson, NewQuarantinedLine,
};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PersonRef {
    Known(i64),
    New(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum DossierRef {
    Known(i64),
    New(usize),
}

/// What the rules know of a dossier: stored state plus this file's accepted lines.
#[derive(Debug, Clone)]
struct View {
    dref: DossierRef,
    lot: String,
    uo: String,
    region_lot: String,
    identifiant: String,
    current_h: Option<NaiveDateTime>,
    date_engagement: Option<NaiveDate>,
    date_cloture: Option<NaiveDate>,
    motif_cloture: Option<String>,
    ever_eligible: bool,
    instants: HashMap<NaiveDateTime, String>,
    dirty: bool,
}

/// A line after layers (b)–(e), which need nothing but the line and the file's context: its
/// fiche when the line passed them, and its anomalies so far.
#[derive(Debug)]
pub struct CheckedLine {
    line: u64,
    raw: String,
    fiche: Option<FicheValues>,
    an: LineAnomalies,
}

/// Layers (b)–(e) of a batch of lines: no store, so it can run ahead of the store's work (on
/// another thread) while the previous batch is applied.
pub fn check_lines(items: Vec<Item>, line_ctx: &dossier::LineContext<'_>) -> Vec<CheckedLine> {
    items
        .into_iter()
        .map(|item| match item {
            Item::Malformed {
                line,
                detail,
                raw,
                dossier,
            } => {
                let mut an = LineAnomalies::new(line);
                an.dossier = dossier;
                an.push(C::LineFormat, Severity::Blocking, None, &detail);
                CheckedLine {
                    line,
                    raw,
                    fiche: None,
                    an,
                }
            }
            Item::Record { line, values, raw } => {
                let mut an = LineAnomalies::new(line);
                let fiche = dossier::check_line(values, line_ctx, &mut an);
                CheckedLine {
                    line,
                    raw,
                    fiche,
                    an,
                }
            }
        })
        .collect()
}

/// Layer (f) and the writes of a batch checked by [`check_lines`], in file order.
pub fn apply_checked(
    conn: &mut DbConnection,
    run: &mut Run,
    ctx: &Context,
    checked: Vec<CheckedLine>,
) -> Result<(), IngestError> {
    let lot = ctx.lot.to_string();
    let file_lot = ctx.lot;
    run.lines += checked.len() as u64;
    // Time per stage, for `CEP_LOG=cep_ingest=debug` (where a batch's time goes).
    let mut clock = std::time::Instant::now();
    let mut lap = |stage: &str| {
        tracing::debug!(
            stage,
            ms = clock.elapsed().as_secs_f64() * 1000.0,
            "batch stage"
        );
        clock = std::time::Instant::now();
    };

    // Prefetch what layer (f) reads.
    let mut numeros: Vec<String> = vec![];
    let mut idents: Vec<String> = vec![];
    let mut refs: Vec<String> = vec![];
    for c in &checked {
        if let Some(f) = &c.fiche {
            numeros.push(f.numero.to_string());
            if let Some(u) = &f.uo21 {
                numeros.push(u.to_string());
            }
            idents.push(f.get(col::IDENTIFIANT).unwrap_or_default().to_owned());
            if let Some(r) = f.get(col::REFERENCE_BC) {
                refs.push(r.to_owned());
            }
        }
    }
    dedup(&mut numeros);
    dedup(&mut idents);
    dedup(&mut refs);

    let mut views: HashMap<String, View> = HashMap::new();
    let stored = q::dossiers_by_numero(conn, &numeros)?;
    let ids: Vec<i64> = stored.iter().map(|d| d.id).collect();
    let mut instants: HashMap<i64, HashMap<NaiveDateTime, String>> = HashMap::new();
    for (id, h, hash) in q::fiche_instants(conn, &ids)? {
        instants.entry(id).or_default().insert(h, hash);
    }
    for d in stored {
        views.insert(
            d.numero_dossier.clone(),
            View {
                dref: DossierRef::Known(d.id),
                lot: d.lot,
                uo: d.uo,
                region_lot: d.region_lot,
                identifiant: d.identifiant_beneficiaire,
                current_h: d.current_horodatage_utc,
                date_engagement: d.date_engagement,
                date_cloture: d.date_cloture,
                motif_cloture: d.motif_cloture,
                ever_eligible: d.ever_eligible,
                instants: instants.remove(&d.id).unwrap_or_default(),
                dirty: false,
            },
        );
    }
    let mut persons: HashMap<String, (PersonRef, Option<String>)> =
        q::persons_of_lot(conn, &lot, &idents)?
            .into_iter()
            .map(|(ident, id, nat)| (ident, (PersonRef::Known(id), nat)))
            .collect();
    let known_person_ids: Vec<i64> = persons
        .values()
        .filter_map(|(p, _)| match p {
            PersonRef::Known(id) => Some(*id),
            PersonRef::New(_) => None,
        })
        .collect();
    // Earlier UO1/UO2 engagements of each person (continuity, indicators point 10).
    let mut engagements: HashMap<PersonRef, Vec<(String, NaiveDate)>> = HashMap::new();
    for (pid, numero, uo, eng) in q::dossiers_of_persons(conn, &known_person_ids)? {
        if let Some(e) = eng
            && uo != "00"
        {
            engagements
                .entry(PersonRef::Known(pid))
                .or_default()
                .push((numero, e));
        }
    }
    let mut identities: HashMap<(PersonRef, String), IdentityRef> =
        q::identity_hashes(conn, &known_person_ids)?
            .into_iter()
            .map(|(p, h, id)| ((PersonRef::Known(p), h), IdentityRef::Known(id)))
            .collect();
    let mut owners: HashMap<String, String> =
        q::reference_owners(conn, &refs)?.into_iter().collect();
    let open_quarantine: HashSet<String> =
        q::open_quarantine(conn, &numeros)?.into_iter().collect();
    // Concurrent CEP (CCTP 1.2.4): other lots' UO1/UO2 dossiers of the same national person.
    let nationals: Vec<String> = persons
        .values()
        .filter_map(|(_, n)| n.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut elsewhere: HashMap<String, Vec<OtherDossier>> = HashMap::new();
    for (nat, l, numero, uo, e, c, m) in q::dossiers_of_national_persons(conn, &nationals)? {
        if l != lot {
            elsewhere
                .entry(nat)
                .or_default()
                .push((l, numero, uo, e, c, m));
        }
    }

    lap("prefetch");
    // Writes of this batch.
    let mut new_persons: Vec<NewPerson> = vec![];
    let mut new_dossiers: Vec<(NewDossierRow, PersonRef)> = vec![];
    let mut new_identities: Vec<(NewIdentityRecord, PersonRef)> = vec![];
    let mut fiches: Vec<(NewFiche, DossierRef, IdentityRef)> = vec![];
    let mut new_refs: Vec<(String, DossierRef)> = vec![];
    let mut quarantined: Vec<NewQuarantinedLine> = vec![];
    let mut supersede: Vec<(String, DossierRef, NaiveDateTime)> = vec![];
    let received = run.received_at;
    let today = cep_domain::paris::date_of(received);

    for CheckedLine {
        line,
        raw,
        fiche,
        mut an,
    } in checked
    {
        let Some(f) = fiche else {
            quarantine(run, &mut quarantined, line, raw, an);
            continue;
        };
        let numero = f.numero.to_string();
        an.set_dossier(&numero);
        let ident = f.get(col::IDENTIFIANT).unwrap_or_default().to_owned();
        let region = f.region.to_string();
        let uo = f.uo.column_code();

        // The dossier as known: immutable fields, lot, instants (points 12, 13).
        let mut no_op = false;
        let mut stale = false;
        if let Some(v) = views.get(&numero) {
            if v.lot != lot {
                an.blocking(
                    C::DossierOperator,
                    "numero_dossier",
                    &format!(
                        "le dossier appartient au lot {} (lot de sa première fiche acceptée)",
                        v.lot
                    ),
                );
            } else {
                for (column, old, new) in [
                    ("uo", v.uo.as_str(), uo),
                    (
                        "identifiant_beneficiaire",
                        v.identifiant.as_str(),
                        ident.as_str(),
                    ),
                    ("region_lot", v.region_lot.as_str(), region.as_str()),
                ] {
                    if old != new {
                        an.blocking(C::FicheImmuable, column, "ce champ ne peut pas changer après la première fiche acceptée du dossier");
                    }
                }
            }
            match v.instants.get(&f.horodatage_utc) {
                Some(h) if *h == f.content_hash => no_op = true,
                Some(_) => an.blocking(C::FicheConflict, "horodatage", "une autre fiche de ce dossier porte déjà cet horodatage avec un contenu différent ; donner un nouvel horodatage"),
                None => stale = v.current_h.is_some_and(|c| f.horodatage_utc < c),
            }
        }
        if an.has_blocking() {
            quarantine(run, &mut quarantined, line, raw, an);
            continue;
        }
        if no_op {
            // The same fiche again: nothing changes (point 12).
            run.accepted += 1;
            run.unchanged += 1;
            continue;
        }

        // UO2.2 continues a UO2.1 closed voluntarily (point 23) and its deadline (point 20).
        if f.uo == WorkUnit::Uo22 {
            let uo21 = f.uo21.map(|n| n.to_string()).unwrap_or_default();
            match views.get(&uo21) {
                None => an.blocking(
                    C::Uo22WithoutUo21,
                    "numero_dossier_uo21",
                    &format!("le dossier d'UO 2.1 {uo21} est inconnu"),
                ),
                Some(u) => {
                    // The UO2.1's effective closure (domain rule): voluntary, on or before
                    // this engagement.
                    let closure = u.date_engagement.and_then(|e| {
                        UnitDates::of_fiche(
                            WorkUnit::Uo21,
                            e,
                            None,
                            u.date_cloture,
                            u.motif_cloture.as_deref(),
                        )
                        .effective_closure(today)
                    });
                    let voluntary = closure.is_some_and(|c| {
                        c.kind == ClosureKind::Voluntary && c.date <= f.date_engagement
                    });
                    if !voluntary {
                        an.blocking(C::Uo22WithoutUo21, "numero_dossier_uo21", &format!("le dossier d'UO 2.1 {uo21} n'est pas clôturé volontairement au plus tard le jour de l'engagement de l'UO 2.2"));
                    } else if let (Some(due), Some(c)) = (
                        deadline(WorkUnit::Uo22, f.date_engagement, u.date_engagement),
                        f.date_cloture,
                    ) && c > due
                    {
                        an.warning(C::Deadline, "date_cloture", &format!("clôture le {c}, échéance le {due} (engagement de l'UO 2.1 + 18 mois) : l'unité est réputée abandonnée à l'échéance"));
                    }
                }
            }
        }
        if an.has_blocking() {
            quarantine(run, &mut quarantined, line, raw, an);
            continue;
        }

        // The person and the dossier, created on first acceptance.
        let (person, national) = match persons.get(&ident) {
            Some(p) => p.clone(),
            None => {
                let p = PersonRef::New(new_persons.len());
                new_persons.push(NewPerson {
                    id: 0,
                    lot: lot.clone(),
                    identifiant_beneficiaire: ident.clone(),
                    first_seen_at: received,
                });
                persons.insert(ident.clone(), (p, None));
                (p, None)
            }
        };

        // Eligibility (point 24, indicators point 10).
        let statut = f.get(col::STATUT).unwrap_or_default();
        let earlier = views.get(&numero).is_some_and(|v| v.ever_eligible);
        // An earlier UO1/UO2 engagement of the person: at this lot, or at any other once
        // persons are linked (indicators point 10).
        let mut earlier_engagements = engagements
            .get(&person)
            .into_iter()
            .flatten()
            .filter(|(n, _)| *n != numero)
            .map(|(_, e)| *e)
            .chain(
                national
                    .as_ref()
                    .and_then(|n| elsewhere.get(n))
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.3),
            );
        let in_continuity = cep_domain::person::in_continuity(
            f.uo,
            f.date_engagement,
            earlier,
            &mut earlier_engagements,
        );
        let eligible = cep_domain::reference::is_eligible(statut, in_continuity);
        if !eligible {
            let what = if f.uo == WorkUnit::Uo0 {
                "l'UO 0 reste ouverte à cette personne mais n'est pas facturable"
            } else {
                "statut hors du public des salariés du secteur privé : unité non facturable"
            };
            an.warning(
                C::Ineligible,
                "statut",
                &format!("statut {statut} : {what}"),
            );
        }

        // Purchase order and consumption reference (§6.2, point 17).
        if let Some(reference) = f.get(col::REFERENCE_BC) {
            if let Some((code, detail)) = ctx.order_anomaly(reference, f.uo) {
                an.warning(code, "reference_bc", &detail);
            }
            match owners.get(reference) {
                Some(owner) if *owner != numero => an.warning(
                    C::BcDuplicate,
                    "reference_bc",
                    &format!("la référence {reference} est déjà celle du dossier {owner}"),
                ),
                Some(_) => {}
                None => {
                    // The dossier is created below when it is new: it will take this index.
                    let owner = views
                        .get(&numero)
                        .map_or(DossierRef::New(new_dossiers.len()), |v| v.dref);
                    owners.insert(reference.to_owned(), numero.clone());
                    new_refs.push((reference.to_owned(), owner));
                }
            }
        }
        // Deliverable and statement number (point 22, §4.1).
        if f.date_cloture.is_some() {
            let voluntary = f.motif_cloture.is_none_or(ClosureMotif::is_voluntary);
            if voluntary
                && matches!(f.uo, WorkUnit::Uo1 | WorkUnit::Uo21)
                && f.get(col::LIVRABLE).is_none()
            {
                an.warning(C::LivrableMissing, "livrable_sha256", "clôture volontaire sans empreinte du livrable signé : unité non facturable tant qu'il n'est pas fourni");
            }
            if voluntary && f.get(col::NUMERO_DECOMPTE).is_none() {
                an.warning(C::DecompteMissing, "numero_decompte", "unité clôturée sans numéro de décompte : elle ne peut pas être rapprochée des états de consommation");
            }
        }
        // Concurrent CEP at another regional operator (point 24), once persons are linked.
        if f.uo != WorkUnit::Uo0
            && let Some(nat) = &national
            && let Some(others) = elsewhere.get(nat)
        {
            let clash = others.iter().find(|(l, _, ouo, e, c, m)| {
                crate::identity::other_dossier(l, ouo, *e, *c, m.as_deref(), today).is_some_and(
                    |o| cep_domain::person::concurrent_cep(file_lot, f.uo, f.date_engagement, &o),
                )
            });
            if let Some((l, n, ..)) = clash {
                an.warning(
                    C::ConcurrentCep,
                    "identifiant_beneficiaire",
                    &crate::identity::concurrent_detail(l, n),
                );
            }
        }
        if stale {
            an.warning(C::FicheStale, "horodatage", "fiche plus ancienne que la dernière fiche reçue pour ce dossier : conservée dans l'historique, sans changer l'état du dossier");
        }

        // Accept: the dossier view moves on.
        let dref = match views.get(&numero) {
            Some(v) => v.dref,
            None => {
                let d = DossierRef::New(new_dossiers.len());
                new_dossiers.push((
                    NewDossierRow {
                        id: 0,
                        numero_dossier: numero.clone(),
                        lot: lot.clone(),
                        uo: uo.to_owned(),
                        region_lot: region.clone(),
                        operator_person_id: 0,
                        // Filled from the view once the batch's lines are processed.
                        current_horodatage_utc: None,
                        date_engagement: None,
                        date_cloture: None,
                        motif_cloture: None,
                        ever_eligible: false,
                    },
                    person,
                ));
                views.insert(
                    numero.clone(),
                    View {
                        dref: d,
                        lot: lot.clone(),
                        uo: uo.to_owned(),
                        region_lot: region.clone(),
                        identifiant: ident.clone(),
                        current_h: None,
                        date_engagement: None,
                        date_cloture: None,
                        motif_cloture: None,
                        ever_eligible: false,
                        instants: HashMap::new(),
                        dirty: false,
                    },
                );
                d
            }
        };
        let v = views.get_mut(&numero).expect("just ensured");
        v.instants.insert(f.horodatage_utc, f.content_hash.clone());
        if eligible {
            v.ever_eligible = true;
        }
        if !stale {
            v.current_h = Some(f.horodatage_utc);
            v.date_engagement = Some(f.date_engagement);
            v.date_cloture = f.date_cloture;
            v.motif_cloture = f.get(col::MOTIF_CLOTURE).map(str::to_owned);
            v.dirty = true;
        }
        if f.uo != WorkUnit::Uo0 {
            let list = engagements.entry(person).or_default();
            if !list.iter().any(|(n, _)| *n == numero) {
                list.push((numero.clone(), f.date_engagement));
            }
        }
        if open_quarantine.contains(&numero) {
            supersede.push((numero.clone(), dref, f.horodatage_utc));
        }
        // Identity values, apart (DESIGN decision 6).
        let ihash = f.identity_hash();
        let iref = match identities.get(&(person, ihash.clone())) {
            Some(r) => *r,
            None => {
                let r = IdentityRef::New(new_identities.len());
                let id = f.identity();
                new_identities.push((
                    NewIdentityRecord {
                        id: 0,
                        operator_person_id: 0,
                        identity_hash: ihash.clone(),
                        nom: id.nom,
                        nom_usage: id.nom_usage,
                        prenom: id.prenom,
                        sexe: id.sexe,
                        date_naissance: id.date_naissance,
                        nir: id.nir,
                        adresse_numero: id.adresse_numero,
                        adresse_type_voie: id.adresse_type_voie,
                        adresse_voie: id.adresse_voie,
                        adresse_commune: id.adresse_commune,
                        adresse_code_postal: id.adresse_code_postal,
                        email: id.email,
                        telephone: id.telephone,
                        first_seen_at: received,
                    },
                    person,
                ));
                identities.insert((person, ihash), r);
                r
            }
        };
        fiches.push((new_fiche(&f, run.receipt_id, line, received), dref, iref));
        run.accepted += 1;
        for a in an.list {
            run.record(a);
        }
    }

    lap("store rules");
    // Writes, in dependency order.
    let person_ids = q::insert_persons(conn, &mut new_persons)?;
    lap("insert persons");
    let pid = |p: PersonRef| match p {
        PersonRef::Known(id) => id,
        PersonRef::New(i) => person_ids[i],
    };
    let mut identity_rows: Vec<NewIdentityRecord> = new_identities
        .into_iter()
        .map(|(mut r, p)| {
            r.operator_person_id = pid(p);
            r
        })
        .collect();
    let identity_ids = q::insert_identities(conn, &mut identity_rows)?;
    lap("insert identities");
    // New dossiers are written once, already in their state at the end of the batch.
    let mut dossier_rows: Vec<NewDossierRow> = new_dossiers
        .into_iter()
        .map(|(mut r, p)| {
            let v = &views[&r.numero_dossier];
            r.operator_person_id = pid(p);
            r.current_horodatage_utc = v.current_h;
            r.date_engagement = v.date_engagement;
            r.date_cloture = v.date_cloture;
            r.motif_cloture = v.motif_cloture.clone();
            r.ever_eligible = v.ever_eligible;
            r
        })
        .collect();
    let dossier_ids = q::insert_dossiers(conn, &mut dossier_rows)?;
    lap("insert dossiers");
    let did = |d: DossierRef| match d {
        DossierRef::Known(id) => id,
        DossierRef::New(i) => dossier_ids[i],
    };
    let fiche_rows: Vec<NewFiche> = fiches
        .into_iter()
        .map(|(mut f, d, i)| {
            f.dossier_id = did(d);
            f.identity_record_id = Some(match i {
                IdentityRef::Known(id) => id,
                IdentityRef::New(k) => identity_ids[k],
            });
            f
        })
        .collect();
    q::insert_fiches(conn, &fiche_rows)?;
    lap("insert fiches");
    // Dossiers stored before this batch move to their latest fiche.
    let states: Vec<DossierState> = views
        .values()
        .filter_map(|v| match v.dref {
            DossierRef::Known(id) if v.dirty => Some((id, v)),
            _ => None,
        })
        .map(|(id, v)| DossierState {
            id,
            horodatage_utc: v.current_h.expect("dirty views have a state"),
            date_engagement: v.date_engagement.expect("dirty views have a state"),
            date_cloture: v.date_cloture,
            motif_cloture: v.motif_cloture.clone(),
            ever_eligible: v.ever_eligible,
        })
        .collect();
    q::update_dossier_states(conn, &states)?;
    lap("update dossier states");
    let ref_rows: Vec<NewConsumptionRef> = new_refs
        .into_iter()
        .map(|(reference, d)| NewConsumptionRef {
            reference,
            dossier_id: did(d),
            receipt_id: run.receipt_id,
        })
        .collect();
    q::insert_consumption_refs(conn, &ref_rows)?;
    for (numero, d, h) in supersede {
        q::supersede_quarantine(conn, &numero, did(d), h)?;
    }
    q::insert_quarantined(conn, &quarantined)?;
    run.flush_anomalies(conn)?;
    lap("references, quarantine, anomalies");
    Ok(())
}

/// A UO1/UO2 dossier of the same national person at another lot: (lot, numero, uo,
/// engagement, closure date, closure motif).
type OtherDossier = (
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityRef {
    Known(i64),
    New(usize),
}

fn quarantine(
    run: &mut Run,
    out: &mut Vec<NewQuarantinedLine>,
    line: u64,
    raw: String,
    an: LineAnomalies,
) {
    run.quarantined += 1;
    out.push(NewQuarantinedLine {
        receipt_id: run.receipt_id,
        line_number: line as i64,
        numero_dossier: an.dossier.clone(),
        raw,
    });
    for a in an.list {
        run.record(a);
    }
}

fn dedup(v: &mut Vec<String>) {
    v.sort_unstable();
    v.dedup();
}

fn new_fiche(f: &FicheValues, receipt_id: i64, line: u64, received_at: NaiveDateTime) -> NewFiche {
    let s = |i: usize| f.values[i].clone();
    let b = |i: usize| f.get(i).and_then(crate::values::boolean);
    let d = |i: usize| f.get(i).and_then(crate::values::date);
    NewFiche {
        dossier_id: 0,
        receipt_id,
        line_number: line as i64,
        horodatage: f.get(col::HORODATAGE).unwrap_or_default().to_owned(),
        horodatage_utc: f.horodatage_utc,
        received_at,
        content_hash: f.content_hash.clone(),
        identity_record_id: None,
        residence_departement: f
            .get(col::ADRESSE_CODE_POSTAL)
            .and_then(residence_departement),
        uo: f.uo.column_code().to_owned(),
        region_lot: Some(f.region.to_string()),
        entreprise_departement: s(col::ENTREPRISE_DEPARTEMENT),
        entreprise_code_postal: s(col::ENTREPRISE_CODE_POSTAL),
        entreprise_commune: s(col::ENTREPRISE_COMMUNE),
        structure: s(col::STRUCTURE),
        handicap: s(col::HANDICAP),
        niveau_formation: s(col::NIVEAU_FORMATION),
        secteur_activite: s(col::SECTEUR_ACTIVITE),
        libelle_secteur: s(col::LIBELLE_SECTEUR),
        taille_entreprise: s(col::TAILLE_ENTREPRISE),
        categorie_sociale: s(col::CATEGORIE_SOCIALE),
        libelle_profession: s(col::LIBELLE_PROFESSION),
        statut: s(col::STATUT).unwrap_or_default(),
        entree_entreprise: s(col::ENTREE_ENTREPRISE),
        date_engagement: f.date_engagement,
        date_cloture: f.date_cloture,
        motif_cloture: s(col::MOTIF_CLOTURE),
        numero_decompte: s(col::NUMERO_DECOMPTE),
        reference_bc: s(col::REFERENCE_BC),
        origine: s(col::ORIGINE),
        motif: s(col::MOTIF),
        motif_detaille: s(col::MOTIF_DETAILLE),
        aiguillage: s(col::AIGUILLAGE),
        date_demande_rdv: d(col::DATE_DEMANDE_RDV),
        dates_interactions: s(col::DATES_INTERACTIONS),
        modes_contact: s(col::MODES_CONTACT),
        numero_dossier_uo21: s(col::NUMERO_DOSSIER_UO21),
        types_service: s(col::TYPES_SERVICE),
        description_service: s(col::DESCRIPTION_SERVICE),
        prestations_complementaires: s(col::PRESTATIONS),
        auto_prescription: b(col::AUTO_PRESCRIPTION),
        financement_formation: s(col::FINANCEMENT),
        decouvertes_metiers: s(col::DECOUVERTES),
        projet_reconversion_cpir: b(col::CPIR),
        etat_projet_cloture: s(col::ETAT_PROJET),
        livrable_sha256: s(col::LIVRABLE),
    }
}

/// The department of a postal code (first two digits; three overseas), for calendars.
fn residence_departement(cp: &str) -> Option<String> {
    if cp.len() != 5 || !cp.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(if cp.starts_with("97") || cp.starts_with("98") {
        cp[..3].to_owned()
    } else {
        cp[..2].to_owned()
    })
}
