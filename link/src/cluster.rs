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
    /// Matched pairs set aside by the look-alike rule (see `engine::is_lookalike`).
    pub lookalike: u64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{Field, PATTERNS};
    use crate::record::IdentityFields;
    use cep_domain::Sex;
    use chrono::NaiveDate;

    /// A model where agreeing on a field is evidence for, disagreeing evidence against.
    fn model() -> Model {
        let m: Vec<Vec<f64>> = Field::ALL
            .iter()
            .map(|f| {
                let mut v = vec![0.01; f.levels()];
                v[0] = 1.0 - 0.01 * (f.levels() - 1) as f64;
                v
            })
            .collect();
        let u: Vec<Vec<f64>> = Field::ALL
            .iter()
            .map(|f| {
                let mut v = vec![0.01; f.levels()];
                v[f.levels() - 1] = 1.0 - 0.01 * (f.levels() - 1) as f64;
                v
            })
            .collect();
        let mut candidates = vec![0u64; PATTERNS];
        candidates[0] = 1;
        let mut model = Model::estimate(&candidates, &candidates, &candidates, 1e6);
        model.m = m;
        model.u = u;
        model.lambda = 0.01;
        model.with_weights()
    }

    fn claire(birth: Option<(i32, u32, u32)>, nir: Option<&str>) -> Features {
        living(birth, nir, None, None)
    }

    fn living(
        birth: Option<(i32, u32, u32)>,
        nir: Option<&str>,
        email: Option<&str>,
        code_postal: Option<&str>,
    ) -> Features {
        Features::of(&IdentityFields {
            email: email.map(Into::into),
            code_postal: code_postal.map(Into::into),
            nom: Some("MARTIN".into()),
            prenom: Some("Claire".into()),
            sexe: Some(Sex::Woman),
            date_naissance: birth.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
            nir: nir.map(Into::into),
            ..Default::default()
        })
    }

    /// Anti-chaining: A ~ B and B ~ C (B has only the names), but A and C disagree on the
    /// birth date, e-mail and address, so C stays out.
    #[test]
    fn a_third_record_cannot_chain_two_different_people() {
        let f = vec![
            living(Some((1980, 5, 3)), None, Some("a@x.fr"), Some("75011")),
            claire(None, None),
            living(
                Some((1991, 11, 27)),
                None,
                Some("claire.m@y.fr"),
                Some("69003"),
            ),
        ];
        let model = model();
        let apart = HashSet::new();
        let mut c = Clusters::singletons(&f, &apart);
        assert!(model.weight(compare(&f[0], &f[1])) > 0.0);
        assert!(model.weight(compare(&f[1], &f[2])) > 0.0);
        assert!(model.weight(compare(&f[0], &f[2])) < -4.0);
        assert_eq!(c.try_merge(0, 1, &model, -4.0), Ok(true));
        assert_eq!(c.try_merge(1, 2, &model, -4.0), Err(Refusal::Chaining));
        assert_eq!(c.into_groups(), vec![vec![0, 1], vec![2]]);
    }

    /// The NIR rule: two different valid NIRs never share a cluster, even through a third
    /// record without NIR, and even when forced.
    #[test]
    fn two_valid_nirs_never_merge() {
        let a = cep_domain::Nir::with_key("2800575056123").unwrap();
        let b = cep_domain::Nir::with_key("2800575056124").unwrap();
        let f = vec![
            claire(Some((1980, 5, 3)), Some(a.as_str())),
            claire(Some((1980, 5, 3)), None),
            claire(Some((1980, 5, 3)), Some(b.as_str())),
        ];
        let model = model();
        let apart = HashSet::new();
        let mut c = Clusters::singletons(&f, &apart);
        assert_eq!(c.try_merge(0, 1, &model, -4.0), Ok(true));
        assert_eq!(c.try_merge(1, 2, &model, -4.0), Err(Refusal::NirConflict));
        assert_eq!(c.force(0, 2), Err(Refusal::NirConflict));
        assert_eq!(c.into_groups(), vec![vec![0, 1], vec![2]]);
    }

    /// An analyst's "not same" holds against the strongest match.
    #[test]
    fn analyst_apart_holds() {
        let f = vec![
            claire(Some((1980, 5, 3)), None),
            claire(Some((1980, 5, 3)), None),
        ];
        let apart: HashSet<(u32, u32)> = [(0, 1)].into();
        let mut c = Clusters::singletons(&f, &apart);
        assert_eq!(
            c.try_merge(0, 1, &model(), -4.0),
            Err(Refusal::AnalystApart)
        );
    }
}
