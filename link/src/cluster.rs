//! Clusters from matched pairs, under three constraints:
//! - two different valid NIRs never end up in one cluster;
//! - an analyst's "not same" decision keeps two records apart, whatever their scores;
//! - no chaining: two clusters merge only if *every* cross pair has a weight at or above the
//!   chaining floor, so that A ~ B and B ~ C cannot pull in a C that does not resemble A.
//!   Clusters larger than the size cap do not grow (a person is not served by 50 operators).

use crate::compare::compare;
use crate::model::Model;
use crate::record::Features;
use std::collections::HashSet;

/// Disjoint clusters of record indices with their constraints.
#[derive(Debug)]
pub struct Clusters<'a> {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    features: &'a [Features],
    apart: &'a HashSet<(u32, u32)>,
}

/// Why a merge was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NirConflict,
    AnalystApart,
    Chaining,
    TooLarge,
}

/// Counts of merges refused, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refusals {
    pub nir_conflict: u64,
    pub analyst_apart: u64,
    pub chaining: u64,
    pub too_large: u64,
}

impl Refusals {
    pub fn count(&mut self, r: Refusal) {
        match r {
            Refusal::NirConflict => self.nir_conflict += 1,
            Refusal::AnalystApart => self.analyst_apart += 1,
            Refusal::Chaining => self.chaining += 1,
            Refusal::TooLarge => self.too_large += 1,
        }
    }
}

/// Largest cluster grown by matching (analysts' decisions may go beyond).
pub const MAX_CLUSTER: usize = 40;

pub fn ordered(a: u32, b: u32) -> (u32, u32) {
    if a < b { (a, b) } else { (b, a) }
}

impl<'a> Clusters<'a> {
    /// Every record alone.
    pub fn singletons(features: &'a [Features], apart: &'a HashSet<(u32, u32)>) -> Clusters<'a> {
        let n = features.len();
        Clusters {
            parent: (0..n as u32).collect(),
            members: (0..n as u32).map(|i| vec![i]).collect(),
            features,
            apart,
        }
    }

    pub fn root(&mut self, mut i: u32) -> u32 {
        while self.parent[i as usize] != i {
            let grand = self.parent[self.parent[i as usize] as usize];
            self.parent[i as usize] = grand;
            i = grand;
        }
        i
    }

    fn nir_conflict(&self, a: u32, b: u32) -> bool {
        let nir_of = |root: u32| {
            self.members[root as usize]
                .iter()
                .find_map(|&m| self.features[m as usize].nir.as_deref())
        };
        matches!((nir_of(a), nir_of(b)), (Some(x), Some(y)) if x != y)
    }

    fn kept_apart(&self, a: u32, b: u32) -> bool {
        if self.apart.is_empty() {
            return false;
        }
        self.members[a as usize].iter().any(|&x| {
            self.members[b as usize]
                .iter()
                .any(|&y| self.apart.contains(&ordered(x, y)))
        })
    }

    /// Merges the clusters of `a` and `b` without the matching checks (existing clusters,
    /// analysts' "same" decisions); only the NIR rule and "not same" decisions still hold.
    pub fn force(&mut self, a: u32, b: u32) -> Result<(), Refusal> {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return Ok(());
        }
        if self.nir_conflict(ra, rb) {
            return Err(Refusal::NirConflict);
        }
        if self.kept_apart(ra, rb) {
            return Err(Refusal::AnalystApart);
        }
        self.join(ra, rb);
        Ok(())
    }

    /// Merges the clusters of a matched pair if every constraint allows it.
    pub fn try_merge(
        &mut self,
        a: u32,
        b: u32,
        model: &Model,
        floor: f32,
    ) -> Result<bool, Refusal> {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra == rb {
            return Ok(false);
        }
        let (ma, mb) = (&self.members[ra as usize], &self.members[rb as usize]);
        if ma.len() + mb.len() > MAX_CLUSTER {
            return Err(Refusal::TooLarge);
        }
        if self.nir_conflict(ra, rb) {
            return Err(Refusal::NirConflict);
        }
        if self.kept_apart(ra, rb) {
            return Err(Refusal::AnalystApart);
        }
        if ma.len() > 1 || mb.len() > 1 {
            for &x in ma {
                for &y in mb {
                    let w = model.weight(compare(
                        &self.features[x as usize],
                        &self.features[y as usize],
                    ));
                    if w < floor {
                        return Err(Refusal::Chaining);
                    }
                }
            }
        }
        self.join(ra, rb);
        Ok(true)
    }

    fn join(&mut self, ra: u32, rb: u32) {
        let (big, small) = if self.members[ra as usize].len() >= self.members[rb as usize].len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        let moved = std::mem::take(&mut self.members[small as usize]);
        self.members[big as usize].extend(moved);
        self.parent[small as usize] = big;
    }

    /// The clusters, each sorted, in order of their smallest member.
    pub fn into_groups(mut self) -> Vec<Vec<u32>> {
        let n = self.parent.len() as u32;
        for i in 0..n {
            self.root(i);
        }
        let mut groups: Vec<Vec<u32>> = self
            .members
            .into_iter()
            .filter(|m| !m.is_empty())
            .map(|mut m| {
                m.sort_unstable();
                m
            })
            .collect();
        groups.sort_unstable_by_key(|g| g[0]);
        groups
    }
}
