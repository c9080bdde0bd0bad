//! Accuracy of a linkage against a known truth: pairwise precision and recall, B-cubed
//! precision and recall of the clusters, and the same pairwise figures restricted to pairs
//! whose two records come from different lots. Plus the two simple baselines the benchmark
//! compares with.

use crate::record::Features;
use std::collections::HashMap;
use std::hash::Hash;

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
}

impl Prf {
    fn of(true_positive: f64, predicted: f64, actual: f64) -> Prf {
        Prf {
            precision: if predicted == 0.0 {
                1.0
            } else {
                true_positive / predicted
            },
            recall: if actual == 0.0 {
                1.0
            } else {
                true_positive / actual
            },
        }
    }

    pub fn f1(&self) -> f64 {
        if self.precision + self.recall == 0.0 {
            0.0
        } else {
            2.0 * self.precision * self.recall / (self.precision + self.recall)
        }
    }
}

/// All the figures of one linkage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    pub pairwise: Prf,
    pub bcubed: Prf,
    pub cross_lot: Prf,
    /// True pairs (same person), and those across lots.
    pub true_pairs: u64,
    pub true_cross_lot_pairs: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Pairs in a group of records, and those among them whose lots differ.
fn pair_counts<'a>(lots: impl Iterator<Item = &'a str>) -> (u64, u64) {
    let mut by_lot: HashMap<&str, u64> = HashMap::new();
    let mut n = 0;
    for lot in lots {
        *by_lot.entry(lot).or_default() += 1;
        n += 1;
    }
    let all = pairs(n);
    (all, all - by_lot.values().map(|&k| pairs(k)).sum::<u64>())
}

/// Measures `predicted` labels against `truth` labels, record by record; `lots[i]` is the lot
/// of record `i`.
pub fn accuracy<P: Hash + Eq, T: Hash + Eq>(
    predicted: &[P],
    truth: &[T],
    lots: &[&str],
) -> Accuracy {
    assert_eq!(predicted.len(), truth.len());
    let mut pred_groups: HashMap<&P, Vec<usize>> = HashMap::new();
    let mut true_groups: HashMap<&T, Vec<usize>> = HashMap::new();
    let mut cells: HashMap<(&P, &T), Vec<usize>> = HashMap::new();
    for i in 0..predicted.len() {
        pred_groups.entry(&predicted[i]).or_default().push(i);
        true_groups.entry(&truth[i]).or_default().push(i);
        cells.entry((&predicted[i], &truth[i])).or_default().push(i);
    }
    let sum = |groups: &mut dyn Iterator<Item = &Vec<usize>>| {
        groups.fold((0u64, 0u64), |acc, g| {
            let (a, c) = pair_counts(g.iter().map(|&i| lots[i]));
            (acc.0 + a, acc.1 + c)
        })
    };
    let (pred_pairs, pred_cross) = sum(&mut pred_groups.values());
    let (true_pairs, true_cross) = sum(&mut true_groups.values());
    let (tp, tp_cross) = sum(&mut cells.values());
    let n = predicted.len() as f64;
    let (mut bp, mut br) = (0.0, 0.0);
    for ((p, t), members) in &cells {
        let k = members.len() as f64;
        bp += k * k / pred_groups[p].len() as f64;
        br += k * k / true_groups[t].len() as f64;
    }
    Accuracy {
        pairwise: Prf::of(tp as f64, pred_pairs as f64, true_pairs as f64),
        bcubed: Prf {
            precision: if n == 0.0 { 1.0 } else { bp / n },
            recall: if n == 0.0 { 1.0 } else { br / n },
        },
        cross_lot: Prf::of(tp_cross as f64, pred_cross as f64, true_cross as f64),
        true_pairs,
        true_cross_lot_pairs: true_cross,
    }
}

/// Baseline 1: same normalised birth name, first names and birth date (records missing any
/// of them stand alone).
pub fn baseline_exact(features: &[Features]) -> Vec<String> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| match (f.surnames.first(), &f.first) {
            (Some(s), Some(first)) if f.birth != 0 => {
                format!("{}|{}|{}", s.core, first.core, f.birth)
            }
            _ => format!("#{i}"),
        })
        .collect()
}

/// Baseline 2: a valid NIR only (records without one stand alone).
pub fn baseline_nir(features: &[Features]) -> Vec<String> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.nir
                .as_deref()
                .map_or_else(|| format!("#{i}"), str::to_owned)
        })
        .collect()
}

/// Labels from groups of record indices.
pub fn labels_of(groups: &[Vec<u32>], n: usize) -> Vec<u32> {
    let mut labels = vec![u32::MAX; n];
    for (g, members) in groups.iter().enumerate() {
        for &m in members {
            labels[m as usize] = g as u32;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_a_hand_example() {
        // Truth: {0,1,2} {3,4}. Predicted: {0,1} {2,3,4}.
        let truth = [1, 1, 1, 2, 2];
        let pred = [10, 10, 20, 20, 20];
        let lots = ["01", "02", "01", "01", "03"];
        let a = accuracy(&pred, &truth, &lots);
        // True pairs: 3 + 1 = 4; predicted: 1 + 3 = 4; correct: (0,1) and (3,4) = 2.
        assert_eq!(a.true_pairs, 4);
        assert!((a.pairwise.precision - 0.5).abs() < 1e-12);
        assert!((a.pairwise.recall - 0.5).abs() < 1e-12);
        // B-cubed precision: (1 + 1 + 1/3 + 2/3 + 2/3) / 5.
        assert!((a.bcubed.precision - (1.0 + 1.0 + 1.0 / 3.0 + 4.0 / 3.0) / 5.0).abs() < 1e-12);
        // B-cubed recall: (2/3 + 2/3 + 1/3 + 1 + 1) / 5.
        assert!((a.bcubed.recall - (2.0 / 3.0 + 2.0 / 3.0 + 1.0 / 3.0 + 2.0) / 5.0).abs() < 1e-12);
        // Cross-lot true pairs: (0,1), (1,2), (3,4) = 3; predicted cross: (0,1), (2,4), (3,4) = 3;
        // correct: (0,1), (3,4).
        assert_eq!(a.true_cross_lot_pairs, 3);
        assert!((a.cross_lot.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.cross_lot.recall - 2.0 / 3.0).abs() < 1e-12);
    }
}
