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
    #[error("the fresh national id {0} is already in use (a 1 in 10^12 chance): run again")]
    IdCollision(String),
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
/// without a national id (and the persons an analyst decided on, or whose identity changed,
/// since the last run) are matched against the others with the last run's model; no other
/// person changes.
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
    /// Operator persons read: all of them in a full run; in an incremental run, those linked
    /// and the persons they were compared with.
    pub records: usize,
    /// Operator persons linked by this run.
    pub relinked: usize,
    pub ids_changed: usize,
    pub merges: usize,
    pub splits: usize,
    /// National persons, and those with operator persons in more than one lot (full runs).
    pub persons: Option<usize>,
    pub persons_several_lots: Option<usize>,
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

/// The records of a run in order: those whose person is kept first (incremental runs), then
/// those to link.
struct Selection {
    kept: Vec<LinkSource>,
    to_link: Vec<LinkSource>,
    /// The blocking keys of each record to link, computed once (blocking, then stored).
    to_link_keys: Vec<Vec<u64>>,
}

/// Incremental selection: operator persons without an id, and the persons an analyst decided on
/// or whose identity changed since `since`, to link; and, to link them against, only the persons that one of them
/// matches among those holding one of their blocking keys (with every member, for the chaining
/// check) — not the whole store.
fn select_incremental(
    conn: &mut DbConnection,
    decisions: &[LinkDecision],
    since: chrono::NaiveDateTime,
    model: &Model,
    settings: &Settings,
) -> Result<(Selection, Vec<Features>), LinkError> {
    let threads = settings.threads;
    let t = Instant::now();
    let lap = |what: &str| {
        tracing::debug!(
            stage = what,
            seconds = t.elapsed().as_secs_f64(),
            "incremental selection"
        )
    };
    let mut to_link: HashSet<i64> = rows::unlinked(conn)?.into_iter().collect();
    lap("unlinked");
    // Persons to look at again: decided on by an analyst, or given a new identity (a corrected
    // name, a NIR sent at last) since the last run.
    let mut touched: Vec<i64> = decisions
        .iter()
        .filter(|d| d.decided_at >= since)
        .flat_map(|d| [d.operator_person_a, d.operator_person_b])
        .collect();
    touched.extend(rows::identity_changed_since(conn, since)?);
    if !touched.is_empty() {
        let persons: Vec<String> = rows::link_sources_of(conn, &touched)?
            .into_iter()
            .filter_map(|s| s.national_person_id)
            .collect();
        to_link.extend(touched);
        to_link.extend(rows::members_of(conn, &persons)?);
    }
    let to_link = rows::link_sources_of(conn, &to_link.into_iter().collect::<Vec<_>>())?;
    lap("sources to link");
    let new_features = features_of(&to_link.iter().collect::<Vec<_>>(), threads);
    let new_keys: Vec<Vec<u64>> = new_features.iter().map(crate::block::keys).collect();
    let mut keys: Vec<i64> = new_keys.iter().flatten().map(|&k| k as i64).collect();
    keys.sort_unstable();
    keys.dedup();
    let holders = rows::key_holders(conn, &keys)?;
    lap("key holders");
    let mut per_key: HashMap<i64, Vec<i64>> = HashMap::new();
    for (k, p) in holders {
        per_key.entry(k).or_default().push(p);
    }
    let linking: HashSet<i64> = to_link.iter().map(|s| s.operator_person_id).collect();
    let mut candidates: Vec<i64> = per_key
        .values()
        .filter(|ps| ps.len() <= crate::block::MAX_BLOCK)
        .flatten()
        .copied()
        .filter(|p| !linking.contains(p))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    let candidate_sources = rows::link_sources_of(conn, &candidates)?;
    let candidate_features = features_of(&candidate_sources.iter().collect::<Vec<_>>(), threads);
    let at: HashMap<i64, usize> = candidate_sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.operator_person_id, i))
        .collect();
    lap("candidates");
    tracing::debug!(
        new = to_link.len(),
        keys = keys.len(),
        candidates = candidate_sources.len(),
        "incremental selection"
    );
    // Persons a new record actually matches (or is decided the same as): only their members
    // are read, for the chaining check and to keep them whole.
    let mut persons: HashSet<String> = HashSet::new();
    for (f, ks) in new_features.iter().zip(&new_keys) {
        for &k in ks {
            let Some(ps) = per_key
                .get(&(k as i64))
                .filter(|ps| ps.len() <= crate::block::MAX_BLOCK)
            else {
                continue;
            };
            for p in ps {
                let Some(&i) = at.get(p) else { continue };
                let other = &candidate_features[i];
                let matched = engine::proven(f, other).unwrap_or_else(|| {
                    model.weight(crate::compare::compare(f, other)) >= settings.match_weight
                });
                if matched && let Some(id) = &candidate_sources[i].national_person_id {
                    persons.insert(id.clone());
                }
            }
        }
    }
    let partners: Vec<i64> = decisions
        .iter()
        .filter(|d| d.same)
        .filter_map(|d| {
            if linking.contains(&d.operator_person_a) {
                Some(d.operator_person_b)
            } else if linking.contains(&d.operator_person_b) {
                Some(d.operator_person_a)
            } else {
                None
            }
        })
        .filter(|p| !linking.contains(p))
        .collect();
    persons.extend(
        rows::link_sources_of(conn, &partners)?
            .into_iter()
            .filter_map(|s| s.national_person_id),
    );
    let persons: Vec<String> = persons.into_iter().collect();
    let members: Vec<i64> = rows::members_of(conn, &persons)?
        .into_iter()
        .filter(|p| !linking.contains(p))
        .collect();
    lap("matched persons");
    let kept = rows::link_sources_of(conn, &members)?;
    lap("their members");
    let mut features = features_of(&kept.iter().collect::<Vec<_>>(), threads);
    features.extend(new_features);
    Ok((
        Selection {
            kept,
            to_link,
            to_link_keys: new_keys,
        },
        features,
    ))
}

/// Links the store's operator persons.
pub fn run(store: &Store, mode: Mode, settings: &Settings) -> Result<RunSummary, LinkError> {
    let started = Instant::now();
    let started_at = now_utc();
    let mut conn = store.conn()?;
    let conn: &mut DbConnection = &mut conn;
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
    let (mode, selection, features) = match (&latest, mode) {
        (Some(last), Mode::Incremental) => {
            let (sel, f) = select_incremental(
                conn,
                &decisions_in_force,
                last.started_at,
                model.as_ref().expect("a run has a model"),
                settings,
            )?;
            (Mode::Incremental, sel, f)
        }
        _ => {
            let all = rows::link_sources(conn)?;
            let f = features_of(&all.iter().collect::<Vec<_>>(), settings.threads);
            let keys = f.iter().map(crate::block::keys).collect();
            (
                Mode::Full,
                Selection {
                    kept: vec![],
                    to_link: all,
                    to_link_keys: keys,
                },
                f,
            )
        }
    };
    let ordered: Vec<&LinkSource> = selection.kept.iter().chain(&selection.to_link).collect();
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
    let seconds_features = started.elapsed().as_secs_f64();
    let keys_of_linked: Vec<(i64, i64)> = selection
        .to_link
        .iter()
        .zip(&selection.to_link_keys)
        .flat_map(|(s, ks)| ks.iter().map(move |&k| (k as i64, s.operator_person_id)))
        .collect();
    let outcome = match mode {
        // Every record is to link: its keys are the ones computed above.
        Mode::Full => engine::link_all_keyed(
            &features,
            &selection.to_link_keys,
            None,
            &decisions,
            settings,
        ),
        Mode::Incremental => {
            let kept = selection.kept.len();
            let mut labels_of: HashMap<&str, u32> = HashMap::new();
            let labels: Vec<u32> = selection
                .kept
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
    let mut taken: HashSet<String> = ordered
        .iter()
        .filter_map(|s| s.national_person_id.clone())
        .collect();
    let mut counter = 0u64;
    let mut fresh = Vec::new();
    let (assigned, changes) = engine::assign_ids(&outcome.groups, old, |_| {
        let id = fresh_id(&mut taken, &mut counter);
        fresh.push(id.clone());
        id
    });
    if let Some(id) = rows::ids_in_use(conn, &fresh)?.into_iter().next() {
        return Err(LinkError::IdCollision(id));
    }
    let changed: Vec<(i64, String)> = assigned
        .into_iter()
        .filter(|(i, id)| old(*i) != Some(id.as_str()))
        .map(|(i, id)| (ordered[i as usize].operator_person_id, id))
        .collect();

    let model_json =
        serde_json::to_string(&outcome.model).expect("a model always serialises to JSON");
    let merges = changes
        .iter()
        .filter(|c| matches!(c, IdChange::Merged { .. }))
        .count();
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "linked; writing");
    let run_id = conn.transaction::<_, LinkError, _>(|conn| {
        rows::set_national_ids(conn, &changed)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "ids written");
        let had_keys: Vec<i64> = selection
            .to_link
            .iter()
            .filter(|s| s.national_person_id.is_some())
            .map(|s| s.operator_person_id)
            .collect();
        rows::replace_keys(conn, &keys_of_linked, &had_keys, mode == Mode::Full)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "keys written");
        let run_id = LinkRun {
            id: 0,
            started_at,
            finished_at: now_utc(),
            mode: mode.as_str().to_owned(),
            records: ordered.len() as i64,
            new_records: selection.to_link.len() as i64,
            candidate_pairs: stats.blocking.candidate_pairs as i64,
            matched_pairs: stats.matched_pairs as i64,
            ids_changed: changed.len() as i64,
            model: model_json,
        }
        .insert(conn)?;
        let events: Vec<LinkEvent> = changes.iter().map(|c| event(c, run_id, mode)).collect();
        LinkEvent::insert_all(conn, &events)?;
        Ok(run_id)
    })?;
    if mode == Mode::Full {
        rows::analyze(conn)?;
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "written");
    // Counting every person scans the whole table: full runs only.
    let (persons, several) = match mode {
        Mode::Full => {
            let (p, s) = rows::person_counts(conn)?;
            (Some(p as usize), Some(s as usize))
        }
        Mode::Incremental => (None, None),
    };
    Ok(RunSummary {
        run_id,
        mode,
        records: ordered.len(),
        relinked: selection.to_link.len(),
        ids_changed: changed.len(),
        merges,
        splits: changes.len() - merges,
        persons,
        persons_several_lots: several,
        stats,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn event(c: &IdChange, run_id: i64, mode: Mode) -> LinkEvent {
    match c {
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
    }
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
