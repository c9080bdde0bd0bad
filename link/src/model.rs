//! The Fellegi–Sunter model: for each field and level, the probability of that level among
//! true matches (m) and among non-matches (u), and the share of matches among candidate pairs
//! (λ, among all pairs). They are estimated from the data, never set by hand: u from randomly
//! drawn pairs (nearly all non-matches), m from the pairs a valid NIR proves to be the same
//! person, λ by expectation–maximisation over the candidate pairs (m too when too few pairs
//! are proven).
//!
//! u is not re-estimated by EM: within candidate pairs, non-matches agree on whatever they
//! were blocked on (same birth date, same name), and a free EM then takes "same birth date"
//! for the match class — tried, and it did.

use crate::compare::{Comparison, Field, MISSING, PATTERNS};
use serde::{Deserialize, Serialize};

/// Estimated parameters and the weight of every comparison vector.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    /// Per field (in `Field::ALL` order), per level.
    pub m: Vec<Vec<f64>>,
    pub u: Vec<Vec<f64>>,
    /// Share of matches among candidate pairs.
    pub lambda: f64,
    /// EM iterations run before convergence.
    pub iterations: u32,
    /// Candidate pairs the model was estimated on.
    pub trained_on_pairs: u64,
    /// Where m and u come from.
    #[serde(default)]
    pub source: String,
    #[serde(skip)]
    weights: Vec<f32>,
}

/// Known matches (pairs sharing a valid NIR) from which m is taken as it is; with fewer, EM
/// refines m too. EM over candidate pairs lets look-alikes (twins: same surname, birth date
/// and address) pull m towards them — conditional independence does not hold for them — so
/// the directly observed m is preferred whenever there is enough of it.
pub const KNOWN_ENOUGH: u64 = 100;

/// Fewer records than this and u from random pairs is too thin: the reference model is used.
pub const MIN_RECORDS: usize = 20_000;

/// Level frequencies with half a pair added to every level (additive smoothing), so that a
/// level never seen in the sample weighs what one observation would, not infinity.
fn smoothed(mut freq: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    for v in freq.iter_mut() {
        for x in v.iter_mut() {
            *x += 0.5;
        }
        let total: f64 = v.iter().sum();
        for x in v.iter_mut() {
            *x /= total;
        }
    }
    freq
}

/// Per-field level frequencies of weighted comparison-vector counts.
fn frequencies(counts: &[f64]) -> Vec<Vec<f64>> {
    let mut freq: Vec<Vec<f64>> = Field::ALL.iter().map(|f| vec![0.0; f.levels()]).collect();
    for (p, &n) in counts.iter().enumerate() {
        if n == 0.0 {
            continue;
        }
        let c = Comparison::from_pattern(p);
        for (i, &level) in c.0.iter().enumerate() {
            if level != MISSING {
                freq[i][level as usize] += n;
            }
        }
    }
    freq
}

impl Model {
    /// Estimates the model.
    ///
    /// - `candidates[p]`: candidate pairs with comparison vector `p`;
    /// - `same[p]`: those of them sharing a valid NIR (known matches);
    /// - `random[p]`: randomly drawn pairs (nearly all non-matches);
    /// - `all_pairs`: the number of pairs of records, n(n−1)/2.
    ///
    /// u is the level frequencies among random pairs; m the level frequencies among known
    /// matches (refined by EM too when there are fewer than [`KNOWN_ENOUGH`]); λ, the share of
    /// matches among *all* pairs (pairs that share no blocking key are taken as
    /// non-matches), is found by EM over the candidate pairs. The weights are therefore those
    /// of any pair, whichever key made it a candidate.
    ///
    /// With `reference` (a store too small to estimate from, see [`Model::reference`]), m and u
    /// are the reference's and only λ is estimated here.
    pub fn estimate(
        candidates: &[u64],
        same: &[u64],
        random: &[u64],
        all_pairs: f64,
        reference: Option<&Model>,
    ) -> Model {
        assert_eq!(candidates.len(), PATTERNS);
        let as_f64 = |v: &[u64]| v.iter().map(|&n| n as f64).collect::<Vec<f64>>();
        let known: u64 = if reference.is_some() {
            KNOWN_ENOUGH
        } else {
            same.iter().sum()
        };
        let mut m = if let Some(r) = reference {
            r.m.clone()
        } else if known >= 50 {
            smoothed(frequencies(&as_f64(same)))
        } else {
            // Too few known matches: start from "matches mostly agree".
            Field::ALL
                .iter()
                .map(|f| {
                    let mut v = vec![0.05; f.levels()];
                    v[0] = 0.9;
                    v
                })
                .collect()
        };
        let u = match reference {
            Some(r) => r.u.clone(),
            None => {
                // Known matches agree on the NIR body by construction: start it like the others.
                m[Field::NirBody as usize] = vec![0.95, 0.05];
                smoothed(frequencies(&as_f64(random)))
            }
        };
        let counts = as_f64(candidates);
        let total: f64 = counts.iter().sum();
        let all_pairs = all_pairs.max(total).max(1.0);
        let mut lambda = (0.05 * total / all_pairs).clamp(1e-12, 0.5);
        let mut iterations = 0;
        let active: Vec<(Comparison, f64)> = counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0.0)
            .map(|(p, &n)| (Comparison::from_pattern(p), n))
            .collect();
        if total > 0.0 {
            for _ in 0..500 {
                iterations += 1;
                let mut match_counts = vec![0.0; PATTERNS];
                let mut matched = 0.0;
                for &(c, n) in &active {
                    let (mut lm, mut lu) = (lambda, 1.0 - lambda);
                    for (i, &level) in c.0.iter().enumerate() {
                        if level != MISSING {
                            lm *= m[i][level as usize];
                            lu *= u[i][level as usize];
                        }
                    }
                    let g = lm / (lm + lu);
                    match_counts[c.pattern()] = n * g;
                    matched += n * g;
                }
                let new_lambda = (matched / all_pairs).clamp(1e-12, 0.5);
                let new_m = if known >= KNOWN_ENOUGH {
                    m.clone()
                } else {
                    smoothed(frequencies(&match_counts))
                };
                let change = ((new_lambda - lambda) / lambda).abs().max(
                    m.iter()
                        .flatten()
                        .zip(new_m.iter().flatten())
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max),
                );
                lambda = new_lambda;
                m = new_m;
                if change < 1e-6 {
                    break;
                }
            }
        }
        Model {
            m,
            u,
            lambda,
            iterations,
            trained_on_pairs: total as u64,
            source: if reference.is_some() {
                "reference m and u, λ estimated here".into()
            } else if known >= KNOWN_ENOUGH {
                "estimated here".into()
            } else {
                "estimated here, m by EM (few NIR-proven pairs)".into()
            },
            weights: vec![],
        }
        .with_weights()
    }

    /// The reference model shipped with the service: m and u estimated by `cep bench link
    /// --save-model` on a generated national-scale set (1 million operator persons). Used by
    /// stores too small to estimate their own (fewer than [`MIN_RECORDS`] records or
    /// [`KNOWN_ENOUGH`] NIR-proven pairs): the demo, tests, the first weeks of a deployment.
    pub fn reference() -> Option<Model> {
        serde_json::from_str::<Option<Model>>(include_str!("../data/reference-model.json"))
            .expect("the shipped reference model is valid JSON")
            .map(Model::with_weights)
    }

    /// Fills the weight table (after deserialising).
    pub fn with_weights(mut self) -> Model {
        let prior = (self.lambda / (1.0 - self.lambda)).log2();
        self.weights = (0..PATTERNS)
            .map(|p| {
                let c = Comparison::from_pattern(p);
                let mut w = prior;
                for (i, &level) in c.0.iter().enumerate() {
                    if level != MISSING {
                        w += (self.m[i][level as usize] / self.u[i][level as usize]).log2();
                    }
                }
                w as f32
            })
            .collect();
        self
    }

    /// Match weight of a comparison vector: log2 of the posterior odds that the pair is the
    /// same person, among candidate pairs. 0 is even odds.
    pub fn weight(&self, c: Comparison) -> f32 {
        self.weights[c.pattern()]
    }

    /// Posterior probability that a pair with this weight is a match.
    pub fn probability(weight: f32) -> f64 {
        1.0 / (1.0 + (-f64::from(weight)).exp2())
    }

    /// The per-level weights `log2(m/u)`, for the run record and the docs.
    pub fn level_weights(&self) -> Vec<(&'static str, Vec<f64>)> {
        Field::ALL
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    f.name(),
                    self.m[i]
                        .iter()
                        .zip(&self.u[i])
                        .map(|(m, u)| (m / u).log2())
                        .collect(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two well-separated populations among candidates: EM finds the number of matches and
    /// weights that rank agreement above disagreement, without being told which pair is which.
    #[test]
    fn em_recovers_a_planted_mixture() {
        let mut candidates = vec![0u64; PATTERNS];
        let agree = Comparison([0, 0, 0, 0, 0, 0, MISSING, MISSING]);
        let near = Comparison([1, 0, 0, 0, 1, 0, MISSING, MISSING]);
        let differ = Comparison([0, 3, 3, 1, 1, 2, MISSING, MISSING]);
        let stranger = Comparison([3, 3, 0, 0, 1, 2, MISSING, MISSING]);
        candidates[agree.pattern()] = 800;
        candidates[near.pattern()] = 200;
        candidates[differ.pattern()] = 3000;
        candidates[stranger.pattern()] = 6000;
        let mut random = vec![0u64; PATTERNS];
        // Random pairs agree on a field now and then, as real ones do.
        random[Comparison([3, 3, 3, 0, 1, 2, MISSING, MISSING]).pattern()] = 4700;
        random[Comparison([3, 3, 3, 1, 1, 2, MISSING, MISSING]).pattern()] = 4700;
        random[Comparison([0, 3, 3, 0, 1, 2, MISSING, MISSING]).pattern()] = 100;
        random[Comparison([3, 0, 3, 1, 1, 0, MISSING, MISSING]).pattern()] = 200;
        random[Comparison([3, 3, 0, 1, 1, 1, MISSING, MISSING]).pattern()] = 100;
        random[Comparison([1, 3, 3, 0, 1, 2, MISSING, MISSING]).pattern()] = 100;
        random[Comparison([3, 1, 2, 0, 1, 2, MISSING, MISSING]).pattern()] = 100;
        let model = Model::estimate(&candidates, &vec![0; PATTERNS], &random, 1e6, None);
        // 1,000 matches among a million pairs.
        assert!(
            (model.lambda / 1e-3 - 1.0).abs() < 0.05,
            "λ = {}",
            model.lambda
        );
        assert!(model.weight(agree) > 10.0);
        assert!(model.weight(near) > 0.0);
        assert!(model.weight(differ) < -10.0);
        assert!(model.weight(stranger) < -10.0);
        // Serialised and read back, the weights are the same.
        let back: Model = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(back.with_weights().weight(near), model.weight(near));
    }
}
