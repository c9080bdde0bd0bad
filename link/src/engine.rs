//! The linking run: candidate pairs, comparison, model, clusters, then national ids that stay
//! the same when unrelated data arrives.

use crate::block::{self, BlockStats, KeyIndex};
use crate::cluster::{Clusters, Refusals, ordered};
use crate::compare::{Comparison, Field, PATTERNS, compare};
use crate::model::Model;
use crate::record::Features;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

/// Tunable thresholds (documented defaults; the benchmark shows their effect).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// A candidate pair at or above this match weight (log2 posterior odds) is a match.
    pub match_weight: f32,
    /// Two clusters merge only if every cross pair is at or above this weight.
    pub chain_floor: f32,
    /// Random pairs drawn to start the non-match probabilities.
    pub random_pairs: usize,
    /// Threads for comparing pairs.
    pub threads: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            match_weight: 0.0,
            chain_floor: -4.0,
            random_pairs: 1_000_000,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(8),
        }
    }
}

/// Analysts' decisions on pairs of records (indices into the run's records).
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    pub same: Vec<(u32, u32)>,
    pub apart: HashSet<(u32, u32)>,
}

impl Decisions {
    pub fn add(&mut self, a: u32, b: u32, same: bool) {
        if same {
            self.same.push(ordered(a, b));
        } else {
            self.apart.insert(ordered(a, b));
        }
    }
}

/// What a run did, for the run record and the benchmark.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkStats {
    pub records: u64,
    pub new_records: u64,
    pub blocking: BlockStats,
    pub proven_pairs: u64,
    pub matched_pairs: u64,
    pub refusals: Refusals,
    pub seconds_features: f64,
    pub seconds_blocking: f64,
    pub seconds_comparing: f64,
    pub seconds_model: f64,
    pub seconds_clustering: f64,
}

/// Compares pairs on several threads; returns each pair's comparison-vector index.
fn patterns(features: &[Features], pairs: &[(u32, u32)], threads: usize) -> Vec<u16> {
    let chunk = pairs.len().div_ceil(threads.max(1)).max(1);
    let mut out = vec![0u16; pairs.len()];
    std::thread::scope(|s| {
        for (ps, os) in pairs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move || {
                for (&(a, b), o) in ps.iter().zip(os.iter_mut()) {
                    *o = compare(&features[a as usize], &features[b as usize]).pattern() as u16;
                }
            });
        }
    });
    out
}

/// Whether two records share a valid NIR (`Some(true)`), carry two different ones
/// (`Some(false)`), or cannot tell (`None`).
pub(crate) fn proven(a: &Features, b: &Features) -> Option<bool> {
    match (&a.nir, &b.nir) {
        (Some(x), Some(y)) => Some(x == y),
        _ => None,
    }
}

/// A small deterministic generator for the random pairs.
fn random_pairs(n: usize, count: usize) -> Vec<(u32, u32)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    if n < 2 {
        return vec![];
    }
    (0..count)
        .filter_map(|_| {
            let a = (next() % n as u64) as u32;
            let b = (next() % n as u64) as u32;
            (a != b).then(|| ordered(a, b))
        })
        .collect()
}

/// Estimates the model on a set of records.
pub fn estimate(
    features: &[Features],
    pairs: &[(u32, u32)],
    pattern_of: &[u16],
    settings: &Settings,
) -> (Model, u64) {
    let mut candidates = vec![0u64; PATTERNS];
    let mut same = vec![0u64; PATTERNS];
    for (&(a, b), &p) in pairs.iter().zip(pattern_of) {
        candidates[p as usize] += 1;
        if proven(&features[a as usize], &features[b as usize]) == Some(true) {
            same[p as usize] += 1;
        }
    }
    let random = random_pairs(features.len(), settings.random_pairs);
    let mut random_counts = vec![0u64; PATTERNS];
    for p in patterns(features, &random, settings.threads) {
        random_counts[p as usize] += 1;
    }
    let proven_total = same.iter().sum();
    let n = features.len() as f64;
    (
        Model::estimate(&candidates, &same, &random_counts, n * (n - 1.0) / 2.0),
        proven_total,
    )
}

/// The look-alike rule: same surname (or one typing error apart) and birth date but clearly
/// different first names (level
/// 3: not equal, not one typing error apart, not close) is the pattern of twins and of
/// namesakes born the same day. The model's fields are not independent for them — surname,
/// birth date and address agree *together* — so its weights overstate the evidence, and more
/// so the smaller the store (its prior odds are higher). Such pairs are never matched on
/// scores; a valid NIR or an analyst's decision still links them.
pub fn is_lookalike(c: Comparison) -> bool {
    c.level(Field::Surname) <= 1 && c.level(Field::Birth) == 0 && c.level(Field::FirstName) == 3
}

/// The namesake rule: the same names and birth date, but another department and another
/// e-mail address on both sides. Full namesakes (issue 20: distinct persons born the same day
/// under the same names) look like this; so does one person who moved and changed address, which
/// only a NIR or an analyst can then tell. Not linked on scores.
pub fn is_contact_conflict(c: Comparison) -> bool {
    c.level(Field::Surname) == 0
        && c.level(Field::FirstName) <= 1
        && c.level(Field::Birth) == 0
        && c.level(Field::Place) == 2
        && c.level(Field::Email) == 2
}

/// Clusters a set of pairs: analysts' "same" first, then pairs a valid NIR proves, then
/// matched pairs from the strongest down. `seeds` are unions that already hold (existing
/// clusters in an incremental run).
fn cluster<'a>(
    features: &'a [Features],
    seeds: &[(u32, u32)],
    (pairs, pattern_of): (&[(u32, u32)], &[u16]),
    model: &Model,
    decisions: &'a Decisions,
    settings: &Settings,
    stats: &mut LinkStats,
) -> Clusters<'a> {
    let mut clusters = Clusters::singletons(features, &decisions.apart);
    for &(a, b) in seeds.iter().chain(&decisions.same) {
        if let Err(r) = clusters.force(a, b) {
            stats.refusals.count(r);
        }
    }
    let mut edges: Vec<(f32, u32, u32)> = Vec::new();
    for (&(a, b), &p) in pairs.iter().zip(pattern_of) {
        match proven(&features[a as usize], &features[b as usize]) {
            Some(true) => {
                stats.proven_pairs += 1;
                if let Err(r) = clusters.force(a, b) {
                    stats.refusals.count(r);
                }
            }
            Some(false) => {}
            None => {
                let c = Comparison::from_pattern(p as usize);
                let w = model.weight(c);
                if w < settings.match_weight {
                    continue;
                }
                if is_lookalike(c) || is_contact_conflict(c) {
                    stats.refusals.lookalike += 1;
                } else {
                    edges.push((w, a, b));
                }
            }
        }
    }
    stats.matched_pairs = edges.len() as u64 + stats.proven_pairs;
    edges.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    for (_, a, b) in edges {
        if let Err(r) = clusters.try_merge(a, b, model, settings.chain_floor) {
            stats.refusals.count(r);
        }
    }
    clusters
}

/// Result of a run: clusters of record indices and the model used.
#[derive(Debug)]
pub struct Outcome {
    pub groups: Vec<Vec<u32>>,
    pub model: Model,
    pub stats: LinkStats,
}

/// Links every record from scratch. With `model`, that model is used as it is; otherwise it
/// is estimated on these records.
pub fn link_all(
    features: &[Features],
    model: Option<Model>,
    decisions: &Decisions,
    settings: &Settings,
) -> Outcome {
    let keys: Vec<Vec<u64>> = features.iter().map(block::keys).collect();
    link_all_keyed(features, &keys, model, decisions, settings)
}

/// [`link_all`] with each record's blocking keys already computed (`keys[i]` of record `i`),
/// for a caller that also stores them.
pub fn link_all_keyed(
    features: &[Features],
    keys: &[Vec<u64>],
    model: Option<Model>,
    decisions: &Decisions,
    settings: &Settings,
) -> Outcome {
    let mut stats = LinkStats {
        records: features.len() as u64,
        new_records: features.len() as u64,
        ..Default::default()
    };
    let t = Instant::now();
    let (pairs, blocking) = block::candidate_pairs(keys);
    stats.blocking = blocking;
    stats.seconds_blocking = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let pattern_of = patterns(features, &pairs, settings.threads);
    stats.seconds_comparing = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let model = match model {
        Some(m) => m,
        None => estimate(features, &pairs, &pattern_of, settings).0,
    };
    stats.seconds_model = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let clusters = cluster(
        features,
        &[],
        (&pairs, &pattern_of),
        &model,
        decisions,
        settings,
        &mut stats,
    );
    let groups = clusters.into_groups();
    stats.seconds_clustering = t.elapsed().as_secs_f64();
    Outcome {
        groups,
        model,
        stats,
    }
}

/// Records already linked, ready to take new ones without recomputing their pairs.
#[derive(Debug)]
pub struct Index {
    pub features: Vec<Features>,
    /// Cluster label of each record (records with one label are one person).
    pub labels: Vec<u32>,
    keys: KeyIndex,
}

impl Index {
    pub fn new(features: Vec<Features>, labels: Vec<u32>) -> Index {
        assert_eq!(features.len(), labels.len());
        let keys: Vec<Vec<u64>> = features.iter().map(block::keys).collect();
        Index {
            keys: KeyIndex::build(&keys),
            features,
            labels,
        }
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Adds records and links them against the index and each other with a fixed model.
    /// Returns the clusters that contain at least one new record (existing members included,
    /// as record indices of the grown index); every other cluster is untouched.
    pub fn add(
        &mut self,
        new: Vec<Features>,
        model: &Model,
        decisions: &Decisions,
        settings: &Settings,
    ) -> Outcome {
        let first = self.features.len() as u32;
        let mut stats = LinkStats {
            records: u64::from(first) + new.len() as u64,
            new_records: new.len() as u64,
            ..Default::default()
        };
        let t = Instant::now();
        let new_keys: Vec<Vec<u64>> = new.iter().map(block::keys).collect();
        self.features.extend(new);
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let new_index = KeyIndex::build(&new_keys);
        for (i, ks) in new_keys.iter().enumerate() {
            let me = first + i as u32;
            for &k in ks {
                stats.blocking.keys += 1;
                for &(_, j) in self.keys.holders(k) {
                    pairs.push((j, me));
                }
                for &(_, j) in new_index.holders(k) {
                    if first + j < me {
                        pairs.push((first + j, me));
                    }
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        stats.blocking.candidate_pairs = pairs.len() as u64;
        self.keys.extend(first, &new_keys);
        stats.seconds_blocking = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let pattern_of = patterns(&self.features, &pairs, settings.threads);
        stats.seconds_comparing = t.elapsed().as_secs_f64();

        let t = Instant::now();
        // Existing clusters hold as they are: chain each label's members.
        let mut by_label: HashMap<u32, u32> = HashMap::new();
        let mut seeds = Vec::new();
        for (i, &label) in self.labels.iter().enumerate() {
            if let Some(&prev) = by_label.get(&label) {
                seeds.push((prev, i as u32));
            } else {
                by_label.insert(label, i as u32);
            }
        }
        let mut clusters = cluster(
            &self.features,
            &seeds,
            (&pairs, &pattern_of),
            model,
            decisions,
            settings,
            &mut stats,
        );
        let mut touched: BTreeMap<u32, ()> = BTreeMap::new();
        for i in first..self.features.len() as u32 {
            touched.insert(clusters.root(i), ());
        }
        let mut groups: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for i in 0..self.features.len() as u32 {
            let r = clusters.root(i);
            if touched.contains_key(&r) {
                groups.entry(r).or_default().push(i);
            }
        }
        // Labels of the grown index: new clusters get fresh labels, joined ones keep theirs.
        let mut next = self.labels.iter().max().map_or(0, |m| m + 1);
        self.labels.resize(self.features.len(), u32::MAX);
        for members in groups.values() {
            let label = members
                .iter()
                .map(|&m| self.labels[m as usize])
                .filter(|&l| l != u32::MAX)
                .min()
                .unwrap_or_else(|| {
                    next += 1;
                    next - 1
                });
            for &m in members {
                self.labels[m as usize] = label;
            }
        }
        stats.seconds_clustering = t.elapsed().as_secs_f64();
        Outcome {
            groups: groups.into_values().collect(),
            model: model.clone(),
            stats,
        }
    }
}

/// A change of national ids that an analyst may want to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdChange {
    /// `absorbed` no longer exists: its records now belong to `kept`.
    Merged {
        kept: String,
        absorbed: String,
        records: usize,
    },
    /// Records left `from` (which still exists) for `to`.
    Split {
        from: String,
        to: String,
        records: usize,
    },
}

/// National ids for clusters, keeping existing ids wherever possible: each existing id goes to
/// the cluster holding most of its records (ties to the smaller id), a cluster with none gets
/// a fresh id from `fresh(members)`. Returns each record's id and the merges and splits.
pub fn assign_ids<'o>(
    groups: &[Vec<u32>],
    old: impl Fn(u32) -> Option<&'o str>,
    mut fresh: impl FnMut(&[u32]) -> String,
) -> (Vec<(u32, String)>, Vec<IdChange>) {
    let mut candidates: Vec<(usize, &str, usize)> = Vec::new();
    let mut olds_of: Vec<BTreeMap<&str, usize>> = Vec::with_capacity(groups.len());
    for (g, members) in groups.iter().enumerate() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for &m in members {
            if let Some(id) = old(m) {
                *counts.entry(id).or_default() += 1;
            }
        }
        for (&id, &n) in &counts {
            candidates.push((n, id, g));
        }
        olds_of.push(counts);
    }
    candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)).then(a.2.cmp(&b.2)));
    let mut id_of_group: Vec<Option<String>> = vec![None; groups.len()];
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (_, id, g) in candidates {
        if id_of_group[g].is_none() && !owner.contains_key(id) {
            id_of_group[g] = Some(id.to_owned());
            owner.insert(id, g);
        }
    }
    let mut out = Vec::new();
    let mut changes = Vec::new();
    for (g, members) in groups.iter().enumerate() {
        let id = match id_of_group[g].take() {
            Some(id) => id,
            None => fresh(members),
        };
        for (&old_id, &n) in &olds_of[g] {
            if old_id == id {
                continue;
            }
            changes.push(if owner.contains_key(old_id) {
                IdChange::Split {
                    from: old_id.to_owned(),
                    to: id.clone(),
                    records: n,
                }
            } else {
                IdChange::Merged {
                    kept: id.clone(),
                    absorbed: old_id.to_owned(),
                    records: n,
                }
            });
        }
        for &m in members {
            out.push((m, id.clone()));
        }
    }
    (out, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_merged_and_split() {
        let old = |m: u32| match m {
            0 | 1 => Some("A"),
            2 => Some("B"),
            3..=5 => Some("C"),
            _ => None,
        };
        let mut n = 0;
        let fresh = |_: &[u32]| {
            n += 1;
            format!("N{n}")
        };
        // {0,1,2}: A absorbs B. {3,4}: keep C. {5}: split from C. {6}: new.
        let groups = vec![vec![0, 1, 2], vec![3, 4], vec![5], vec![6]];
        let (ids, changes) = assign_ids(&groups, old, fresh);
        let id = |m: u32| ids.iter().find(|(x, _)| *x == m).unwrap().1.clone();
        assert_eq!(
            (id(0), id(2), id(3), id(5), id(6)),
            ("A".into(), "A".into(), "C".into(), "N1".into(), "N2".into())
        );
        assert_eq!(
            changes,
            vec![
                IdChange::Merged {
                    kept: "A".into(),
                    absorbed: "B".into(),
                    records: 1
                },
                IdChange::Split {
                    from: "C".into(),
                    to: "N1".into(),
                    records: 1
                },
            ]
        );
    }
}
