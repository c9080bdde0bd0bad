//! The Fellegi–Sunter model: for each field and level, the probability of that level among
//! true matches (m) and among non-matches (u), and the share of matches among candidate pairs
//! (λ, among all pairs). They are estimated from the store's own data at every size, never set
//! by hand and never taken from the generator: u from randomly drawn pairs (nearly all
//! non-matches) with [`generic_u`] priors that only a small store notices, m from the pairs a valid NIR proves to be the same person, λ by
//! expectation–maximisation over the candidate pairs — m too when fewer than
//! [`KNOWN_ENOUGH`] pairs are proven, starting from generic priors ("matches mostly agree")
//! with the proven pairs among the data (issue 20: a reference model estimated on our own
//! generator gave a cross-operator recall of 0.57 on an independent benchmark of 10,000).
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

/// Pseudo-pairs of [`generic_u`] added to the randomly drawn pairs when u is estimated. A
/// store of a few hundred records has few distinct pairs (and the draws repeat them), so u
/// leans on the priors; from a few thousand records on, the drawn pairs outweigh them
/// (1,000 of 1,000,000 draws).
pub const PRIOR_PAIRS: f64 = 1_000.0;

/// Generic u: how often two persons taken at random in France agree, per field and level.
/// Orders of magnitude from public figures, not from our generator (issue 20): the most common
/// surname is borne by about 0.4 % of the population and the sum of squared surname shares
/// is about 1/2,000; first names are more concentrated (about 1/300); a birth date among about
/// 20,000 possible days of adults of working age; about 6,000 postal codes and 100
/// departments, unevenly peopled; an e-mail address is one person's; 19 lots.
pub fn generic_u() -> Vec<Vec<f64>> {
    Field::ALL
        .iter()
        .map(|f| match f {
            // exact · one typing error / JW ≥ 0.92 · JW ≥ 0.88 or phonetic · different
            Field::Surname => vec![5e-4, 1e-3, 1e-2, 0.9885],
            Field::FirstName => vec![3e-3, 1e-2, 2e-2, 0.967],
            // exact · day and month swapped · one digit · different
            Field::Birth => vec![5e-5, 1e-5, 4e-3, 0.99594],
            Field::Sex => vec![0.5, 0.5],
            // same · one edit apart · different
            Field::Email => vec![1e-6, 1e-5, 0.999989],
            // same postal code · same department · different
            Field::Place => vec![2e-3, 2e-2, 0.978],
            Field::NirBody => vec![1e-8, 1.0 - 1e-8],
            // different operators · same operator
            Field::Lot => vec![0.95, 0.05],
        })
        .collect()
}

/// u from randomly drawn pairs, counted as at most the number of distinct pairs there are
/// (`all_pairs`: draws from a small store repeat the same pairs), plus [`PRIOR_PAIRS`] of
/// [`generic_u`].
fn random_with_priors(random: &[u64], all_pairs: f64) -> Vec<Vec<f64>> {
    let counts: Vec<f64> = random.iter().map(|&n| n as f64).collect();
    let drawn: f64 = counts.iter().sum();
    let scale = if drawn > 0.0 {
        drawn.min(all_pairs.max(0.0)) / drawn
    } else {
        0.0
    };
    let mut freq = frequencies(&counts);
    for (v, prior) in freq.iter_mut().zip(generic_u()) {
        for (x, p) in v.iter_mut().zip(prior) {
            *x = *x * scale + PRIOR_PAIRS * p;
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
    pub fn estimate(candidates: &[u64], same: &[u64], random: &[u64], all_pairs: f64) -> Model {
        assert_eq!(candidates.len(), PATTERNS);
        let as_f64 = |v: &[u64]| v.iter().map(|&n| n as f64).collect::<Vec<f64>>();
        let known: u64 = same.iter().sum();
        let mut m = if known >= 50 {
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
        // Known matches agree on the NIR body by construction: start it like the others.
        m[Field::NirBody as usize] = vec![0.95, 0.05];
        let u = random_with_priors(random, all_pairs);
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
            source: if known >= KNOWN_ENOUGH {
                "estimated here".into()
            } else {
                "estimated here, m by EM (few NIR-proven pairs)".into()
            },
            weights: vec![],
        }
        .with_weights()
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
        let model = Model::estimate(&candidates, &vec![0; PATTERNS], &random, 1e6);
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

    /// A store of two records, one person at two operators: its only random pair is that
    /// person, a million draws of it are still one pair, and u comes from the generic priors —
    /// the pair is a match (issue 20: no reference model, and a new store starts small).
    #[test]
    fn a_tiny_store_takes_u_from_generic_priors() {
        let one = Comparison([0, 0, 0, 0, 0, 0, MISSING, 0]);
        let mut candidates = vec![0u64; PATTERNS];
        candidates[one.pattern()] = 1;
        let mut random = vec![0u64; PATTERNS];
        random[one.pattern()] = 1_000_000;
        let model = Model::estimate(&candidates, &vec![0; PATTERNS], &random, 1.0);
        let surname_u = model.u[Field::Surname as usize][0];
        assert!(surname_u < 0.01, "surname agreement u = {surname_u}");
        assert!(model.weight(one) > 10.0, "weight {}", model.weight(one));
        // A large sample outweighs the priors: 1,000,000 distinct pairs, all agreeing on sex.
        let model = Model::estimate(&candidates, &vec![0; PATTERNS], &random, 1e12);
        assert!(model.u[Field::Sex as usize][0] > 0.99);
    }
}
