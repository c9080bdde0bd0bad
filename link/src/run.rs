//! A linking run against the store: read every operator person's identity, link (all of them,
//! or only those without a national id against the rest), write the national ids that changed,
//! the merges and splits, and the run with its model — in one transaction.

use crate::engine::{self, Decisions, IdChange, Index, LinkStats, Settings};
use crate::model::Model;
use crate::record::{Features, IdentityFields};
use cep_domain::Sex;
use cep_store::models::link::{self as rows, LinkDecision, LinkEvent, LinkRun, LinkSource};
use cep_store::models::now_utc;
use cep_store::{DbConnection, Store, StoreError};
use diesel::Connection;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stored model of linking run {run} cannot be read: {source}")]
    Model { run: i64, source: serde_json::Error },
    #[error("no beneficiary {identifiant} in lot {lot}")]
    UnknownPerson { lot: String, identifiant: String },
    #[error("a decision needs two different beneficiaries")]
    SamePerson,
    #[error(
        "{lot_a}/{id_a} and {lot_b}/{id_b} carry two different valid NIRs: they cannot be declared the same person"
    )]
    NirConflict {
        lot_a: String,
        id_a: String,
        lot_b: String,
        id_b: String,
    },
}

impl From<diesel::result::Error> for LinkError {
    fn from(e: diesel::result::Error) -> LinkError {
        LinkError::Store(StoreError::query("linking transaction")(e))
    }
}

/// Full: every record linked again and the model re-estimated. Incremental: operator persons
/// without a national id (and the persons an analyst decided on since the last run) are
/// matched against the others with the last run's model; no other person changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Incremental,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
        }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: i64,
    pub mode: Mode,
    pub records: usize,
    pub relinked: usize,
    pub ids_changed: usize,
    pub merges: usize,
    pub splits: usize,
    /// National persons, and those with operator persons in more than one lot.
    pub persons: usize,
    pub persons_several_lots: usize,
    pub stats: LinkStats,
    pub seconds: f64,
}

fn fields(s: &LinkSource) -> IdentityFields {
    IdentityFields {
        lot: s.lot.parse().ok(),
        nom: s.nom.clone(),
        nom_usage: s.nom_usage.clone(),
        prenom: s.prenom.clone(),
        sexe: s.sexe.as_deref().and_then(Sex::from_code),
        date_naissance: s.date_naissance,
        nir: s.nir.clone(),
        email: s.email.clone(),
        code_postal: s.code_postal.clone(),
        commune: s.commune.clone(),
    }
}

/// Normalises records on every core.
fn features_of(sources: &[&LinkSource], threads: usize) -> Vec<Features> {
    let chunk = sources.len().div_ceil(threads.max(1)).max(1);
    let mut out: Vec<Vec<Features>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = sources
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|r| Features::of(&fields(r)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            out.push(h.join().expect("normalisation does not panic"));
        }
    });
    out.into_iter().flatten().collect()
}

/// A new pseudonymous national id: `NP` and 16 hexadecimal digits of a hash of the time, the
/// process and a counter — nothing of the person's identity is in it.
fn fresh_id(taken: &mut HashSet<String>, counter: &mut u64) -> String {
    loop {
        *counter += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let digest = Sha256::digest(format!(
            "cep-person|{nanos}|{}|{counter}",
            std::process::id()
        ));
        let id = format!(
            "NP{}",
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        if taken.insert(id.clone()) {
            return id;
        }
    }
}

/// Links the store's operator persons.
pub fn run(store: &Store, mode: Mode, settings: &Settings) -> Result<RunSummary, LinkError> {
    let started = Instant::now();
    let started_at = now_utc();
    let mut conn = store.conn()?;
    let conn: &mut DbConnection = &mut conn;
    let sources = rows::link_sources(conn)?;
    let latest = LinkRun::latest(conn)?;
    let model = match &latest {
        Some(r) => Some(
            serde_json::from_str::<Model>(&r.model)
                .map_err(|source| LinkError::Model { run: r.id, source })?
                .with_weights(),
        ),
        None => None,
    };
    let decisions_in_force = LinkDecision::in_force(conn)?;
    let mode = if model.is_none() || sources.iter().all(|s| s.national_person_id.is_none()) {
        Mode::Full
    } else {
        mode
    };

    // Records to link again in an incremental run: those without an id, and every member of
    // a person an analyst decided on since the last run.
    let mut relink: HashSet<i64> = sources
        .iter()
        .filter(|s| s.national_person_id.is_none())
        .map(|s| s.operator_person_id)
        .collect();
    if let (Mode::Incremental, Some(last)) = (mode, &latest) {
        let touched: HashSet<i64> = decisions_in_force
            .iter()
            .filter(|d| d.decided_at >= last.started_at)
            .flat_map(|d| [d.operator_person_a, d.operator_person_b])
            .collect();
        let persons: HashSet<&str> = sources
            .iter()
            .filter(|s| touched.contains(&s.operator_person_id))
            .filter_map(|s| s.national_person_id.as_deref())
            .collect();
        relink.extend(
            sources
                .iter()
                .filter(|s| {
                    touched.contains(&s.operator_person_id)
                        || s.national_person_id
                            .as_deref()
                            .is_some_and(|p| persons.contains(p))
                })
                .map(|s| s.operator_person_id),
        );
    }
    // Order: kept records first, then the ones to link.
    let ordered: Vec<&LinkSource> = match mode {
        Mode::Full => sources.iter().collect(),
        Mode::Incremental => sources
            .iter()
            .filter(|s| !relink.contains(&s.operator_person_id))
            .chain(
                sources
                    .iter()
                    .filter(|s| relink.contains(&s.operator_person_id)),
            )
            .collect(),
    };
    let position: HashMap<i64, u32> = ordered
        .iter()
        .enumerate()
        .map(|(i, s)| (s.operator_person_id, i as u32))
        .collect();
    let mut decisions = Decisions::default();
    for d in &decisions_in_force {
        if let (Some(&a), Some(&b)) = (
            position.get(&d.operator_person_a),
            position.get(&d.operator_person_b),
        ) {
            decisions.add(a, b, d.same);
        }
    }
    let features = features_of(&ordered, settings.threads);
    let seconds_features = started.elapsed().as_secs_f64();
    let outcome = match mode {
        Mode::Full => engine::link_all(&features, None, &decisions, settings),
        Mode::Incremental => {
            let kept = ordered.len() - relink.len();
            let mut labels_of: HashMap<&str, u32> = HashMap::new();
            let labels: Vec<u32> = ordered[..kept]
                .iter()
                .map(|s| {
                    let next = labels_of.len() as u32;
                    *labels_of
                        .entry(s.national_person_id.as_deref().unwrap_or_default())
                        .or_insert(next)
                })
                .collect();
            let mut features = features;
            let new = features.split_off(kept);
            let mut index = Index::new(features, labels);
            index.add(
                new,
                model.as_ref().expect("incremental runs have a model"),
                &decisions,
                settings,
            )
        }
    };
    let mut stats = outcome.stats.clone();
    stats.seconds_features = seconds_features;

    let old = |i: u32| ordered[i as usize].national_person_id.as_deref();
    let mut taken: HashSet<String> = sources
        .iter()
        .filter_map(|s| s.national_person_id.clone())
        .collect();
    let mut counter = 0u64;
    let (assigned, changes) =
        engine::assign_ids(&outcome.groups, old, |_| fresh_id(&mut taken, &mut counter));
    let changed: Vec<(i64, String)> = assigned
        .into_iter()
        .filter(|(i, id)| old(*i) != Some(id.as_str()))
        .map(|(i, id)| (ordered[i as usize].operator_person_id, id))
        .collect();

    let model_json =
        serde_json::to_string(&outcome.model).expect("a model always serialises to JSON");
    let summary_counts = (
        changes
            .iter()
            .filter(|c| matches!(c, IdChange::Merged { .. }))
            .count(),
        changes
            .iter()
            .filter(|c| matches!(c, IdChange::Split { .. }))
            .count(),
    );
    let run_id = conn.transaction::<_, LinkError, _>(|conn| {
        rows::set_national_ids(conn, &changed)?;
        let run_id = LinkRun {
            id: 0,
            started_at,
            finished_at: now_utc(),
            mode: mode.as_str().to_owned(),
            records: sources.len() as i64,
            new_records: relink.len() as i64,
            candidate_pairs: stats.blocking.candidate_pairs as i64,
            matched_pairs: stats.matched_pairs as i64,
            ids_changed: changed.len() as i64,
            model: model_json,
        }
        .insert(conn)?;
        let events: Vec<LinkEvent> = changes
            .iter()
            .map(|c| match c {
                IdChange::Merged {
                    kept,
                    absorbed,
                    records,
                } => LinkEvent {
                    id: 0,
                    run_id,
                    kind: "merge".into(),
                    national_person_id: kept.clone(),
                    other_national_person_id: absorbed.clone(),
                    records: *records as i64,
                    reason: format!(
                        "{} run: records of both were found to be one person",
                        mode.as_str()
                    ),
                },
                IdChange::Split { from, to, records } => LinkEvent {
                    id: 0,
                    run_id,
                    kind: "split".into(),
                    national_person_id: from.clone(),
                    other_national_person_id: to.clone(),
                    records: *records as i64,
                    reason: format!(
                        "{} run: records no longer match the rest of the person (analyst decision, NIR or chaining constraint)",
                        mode.as_str()
                    ),
                },
            })
            .collect();
        LinkEvent::insert_all(conn, &events)?;
        Ok(run_id)
    })?;

    let linkage = rows::linkage(conn)?;
    let mut lots_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (lot, _, person) in &linkage {
        if let Some(p) = person {
            lots_of.entry(p).or_default().insert(lot);
        }
    }
    Ok(RunSummary {
        run_id,
        mode,
        records: sources.len(),
        relinked: if mode == Mode::Full {
            sources.len()
        } else {
            relink.len()
        },
        ids_changed: changed.len(),
        merges: summary_counts.0,
        splits: summary_counts.1,
        persons: lots_of.len(),
        persons_several_lots: lots_of.values().filter(|l| l.len() > 1).count(),
        stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Records an analyst's decision that two beneficiaries are (or are not) the same person.
/// Every later run respects it. Two different valid NIRs cannot be declared the same.
pub fn decide(
    store: &Store,
    a: (&str, &str),
    b: (&str, &str),
    same: bool,
    decided_by: &str,
    reason: &str,
) -> Result<i64, LinkError> {
    let mut conn = store.conn()?;
    let conn: &mut DbConnection = &mut conn;
    let find = |conn: &mut DbConnection, (lot, id): (&str, &str)| {
        rows::operator_person(conn, lot, id)?
            .map(|(op, _)| op)
            .ok_or_else(|| LinkError::UnknownPerson {
                lot: lot.into(),
                identifiant: id.into(),
            })
    };
    let (pa, pb) = (find(conn, a)?, find(conn, b)?);
    if pa == pb {
        return Err(LinkError::SamePerson);
    }
    if same {
        let sources = rows::link_sources(conn)?;
        let nir = |op: i64| {
            sources
                .iter()
                .find(|s| s.operator_person_id == op)
                .and_then(|s| Features::of(&fields(s)).nir.map(|n| n.to_string()))
        };
        if let (Some(x), Some(y)) = (nir(pa), nir(pb))
            && x != y
        {
            return Err(LinkError::NirConflict {
                lot_a: a.0.into(),
                id_a: a.1.into(),
                lot_b: b.0.into(),
                id_b: b.1.into(),
            });
        }
    }
    Ok(LinkDecision {
        id: 0,
        operator_person_a: pa.min(pb),
        operator_person_b: pa.max(pb),
        same,
        decided_by: decided_by.into(),
        reason: reason.into(),
        decided_at: now_utc(),
    }
    .insert(conn)?)
}
