//! The half-yearly quality bonus per lot, driven by indicator 8.1 (share of survey answers
//! saying the service was both of quality and useful).
//!
//! The scheme is configuration: the CCAP's article 16.2 fixes it and is not in the CCTP. The
//! default below is an **assumption**, to be replaced by the contract's values; every bonus
//! records the scheme version it was computed with.

use crate::units::Unit;
use cep_domain::{HalfYear, WorkUnit};
use std::collections::BTreeMap;

/// z for a 95 % interval (indicators-v1 point 14).
pub const Z95: f64 = 1.959964;

/// One tier: from this satisfaction rate (in basis points of 1: 9000 = 90 %), this bonus (in
/// basis points of the base: 300 = 3 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub min_rate_bp: u32,
    pub bonus_bp: u32,
}

/// A bonus scheme (versioned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BonusScheme {
    pub version: String,
    /// Fewer answers than this in the half-year: no bonus.
    pub min_answers: u32,
    /// Compare the Wilson lower bound (true) or the raw rate (false) with the tiers.
    pub use_wilson: bool,
    /// Highest tier first is not required: the best tier reached applies.
    pub tiers: Vec<Tier>,
    /// Work units whose billed amount in the half-year is the base.
    pub base_work_units: Vec<WorkUnit>,
}

impl Default for BonusScheme {
    /// ASSUMPTION until CCAP article 16.2 is entered: at least 30 answers; on the Wilson lower
    /// bound, 1.5 % from 80 % and 3 % from 90 %, of the half-year's billed amount HT of UO1 and
    /// UO2.
    fn default() -> BonusScheme {
        BonusScheme {
            version: "hypothese-2025-1".into(),
            min_answers: 30,
            use_wilson: true,
            tiers: vec![
                Tier {
                    min_rate_bp: 8000,
                    bonus_bp: 150,
                },
                Tier {
                    min_rate_bp: 9000,
                    bonus_bp: 300,
                },
            ],
            base_work_units: vec![WorkUnit::Uo1, WorkUnit::Uo21, WorkUnit::Uo22],
        }
    }
}

/// Wilson score interval's lower bound for `k` successes out of `n`.
pub fn wilson_lower(k: u64, n: u64, z: f64) -> Option<f64> {
    wilson_interval(k, n, z).map(|(lower, _)| lower)
}

/// The Wilson score interval of `k` successes in `n` at `z` (indicators-v1 point 14):
/// `(lower, upper)`, `None` when `n` is 0.
pub fn wilson_interval(k: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let half = z * ((p * (1.0 - p) + z2 / (4.0 * n)) / n).sqrt();
    let d = 1.0 + z2 / n;
    Some(((centre - half) / d, (centre + half) / d))
}

/// A lot's bonus for a half-year, with its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Bonus {
    pub lot: String,
    pub half: HalfYear,
    pub scheme_version: String,
    pub answers: u64,
    pub satisfied: u64,
    pub rate: Option<f64>,
    pub wilson_lower: Option<f64>,
    /// The tier reached, if any.
    pub tier: Option<Tier>,
    /// Billed amount HT of the base work units for units closed in the half-year.
    pub base_ht_cents: i64,
    /// base × tier, rounded half-up to the cent.
    pub bonus_ht_cents: i64,
    /// Why there is no bonus, in French, when there is none.
    pub note: String,
}

/// Whether `k/n` (or its Wilson bound) reaches `min_rate_bp`: the raw rate is compared exactly
/// (k × 10,000 ≥ threshold × n), so that a rate exactly on a threshold reaches it.
fn reaches(k: u64, n: u64, min_rate_bp: u32, wilson: bool) -> bool {
    if wilson {
        wilson_lower(k, n, Z95).is_some_and(|w| w * 10_000.0 >= f64::from(min_rate_bp) - 1e-9)
    } else {
        n > 0 && k * 10_000 >= u64::from(min_rate_bp) * n
    }
}

/// Bonuses of every lot with answers or billed units in `half`. `answers` are (lot, date,
/// satisfied) where satisfied = quality and usefulness both `O`; `unit_price` gives each
/// billable unit's price HT in cents (its order's).
pub fn bonuses(
    scheme: &BonusScheme,
    half: HalfYear,
    answers: &[(String, chrono::NaiveDate, bool)],
    units: &[Unit],
    unit_price: impl Fn(&Unit) -> i64,
) -> Vec<Bonus> {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (lot, date, ok) in answers {
        if half.contains(*date) {
            let c = counts.entry(lot.clone()).or_default();
            c.0 += 1;
            c.1 += u64::from(*ok);
        }
    }
    let mut base: BTreeMap<String, i64> = BTreeMap::new();
    for u in units {
        if u.verdict.billable()
            && half.contains(u.closure.date)
            && scheme.base_work_units.contains(&u.uo)
        {
            *base.entry(u.lot.to_string()).or_default() += unit_price(u);
        }
    }
    let lots: std::collections::BTreeSet<String> =
        counts.keys().chain(base.keys()).cloned().collect();
    lots.into_iter()
        .map(|lot| {
            let (n, k) = counts.get(&lot).copied().unwrap_or((0, 0));
            let base_ht_cents = base.get(&lot).copied().unwrap_or(0);
            let tier = if n >= u64::from(scheme.min_answers) {
                scheme
                    .tiers
                    .iter()
                    .filter(|t| reaches(k, n, t.min_rate_bp, scheme.use_wilson))
                    .max_by_key(|t| t.bonus_bp)
                    .copied()
            } else {
                None
            };
            let note = if n < u64::from(scheme.min_answers) {
                format!("{n} réponses, moins des {} requises", scheme.min_answers)
            } else if tier.is_none() {
                "taux de satisfaction sous le premier palier".into()
            } else {
                String::new()
            };
            let bonus_ht_cents = tier.map_or(0, |t| {
                (base_ht_cents * i64::from(t.bonus_bp) + 5_000).div_euclid(10_000)
            });
            Bonus {
                lot,
                half,
                scheme_version: scheme.version.clone(),
                answers: n,
                satisfied: k,
                rate: (n > 0).then(|| k as f64 / n as f64),
                wilson_lower: wilson_lower(k, n, Z95),
                tier,
                base_ht_cents,
                bonus_ht_cents,
                note,
            }
        })
        .collect()
}

/// [`bonuses`] of `half` on the store: the survey answers as currently recorded (satisfied =
/// quality and usefulness both `O`) and each billable unit priced at its order's unit price.
/// Shared by `cep bill --half` and the API.
pub fn of_half(
    conn: &mut cep_store::DbConnection,
    scheme: &BonusScheme,
    half: HalfYear,
    units: &[Unit],
    orders: &[cep_store::models::buyer::PurchaseOrder],
) -> Result<Vec<Bonus>, crate::BillingError> {
    let answers = survey_answers(conn)?;
    Ok(bonuses_at_order_prices(
        scheme, half, &answers, units, orders,
    ))
}

/// The survey answers as currently recorded: (lot, date, satisfied = quality and usefulness
/// both `O`).
pub fn survey_answers(
    conn: &mut cep_store::DbConnection,
) -> Result<Vec<(String, chrono::NaiveDate, bool)>, crate::BillingError> {
    Ok(
        cep_store::models::buyer::SurveyAnswer::all_current_with_lot(conn)?
            .into_iter()
            .filter_map(|(lot, a)| Some((lot?, a.date_reponse, a.qualite && a.utilite)))
            .collect(),
    )
}

/// [`bonuses`] with each billable unit priced at its order's unit price HT.
pub fn bonuses_at_order_prices(
    scheme: &BonusScheme,
    half: HalfYear,
    answers: &[(String, chrono::NaiveDate, bool)],
    units: &[Unit],
    orders: &[cep_store::models::buyer::PurchaseOrder],
) -> Vec<Bonus> {
    let price: std::collections::HashMap<&str, i64> = orders
        .iter()
        .map(|o| (o.reference.as_str(), o.prix_unitaire_ht_cents))
        .collect();
    bonuses(scheme, half, answers, units, |u| {
        u.verdict
            .consumes
            .and_then(|o| price.get(o.to_string().as_str()).copied())
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn answers(lot: &str, n: usize, satisfied: usize) -> Vec<(String, NaiveDate, bool)> {
        (0..n)
            .map(|i| {
                (
                    lot.to_owned(),
                    NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
                    i < satisfied,
                )
            })
            .collect()
    }

    fn raw() -> BonusScheme {
        BonusScheme {
            use_wilson: false,
            ..BonusScheme::default()
        }
    }

    fn tier_of(scheme: &BonusScheme, n: usize, k: usize) -> Option<u32> {
        let half = "2025-S1".parse().unwrap();
        bonuses(scheme, half, &answers("08", n, k), &[], |_| 0)[0]
            .tier
            .map(|t| t.bonus_bp)
    }

    /// Known value: 81 of 100 gives a Wilson lower bound of 0.7222 (z = 1.959964).
    #[test]
    fn wilson_lower_bound() {
        let w = wilson_lower(81, 100, Z95).unwrap();
        assert!((w - 0.72222).abs() < 1e-4, "{w}");
        assert_eq!(wilson_lower(0, 0, Z95), None);
        assert!(wilson_lower(100, 100, Z95).unwrap() < 1.0);
    }

    /// Tiers at and around each threshold, on the raw rate (exact comparison).
    #[test]
    fn tiers_at_and_around_each_threshold() {
        let s = raw();
        assert_eq!(tier_of(&s, 100, 79), None);
        assert_eq!(tier_of(&s, 100, 80), Some(150), "exactly 80 %");
        assert_eq!(tier_of(&s, 100, 89), Some(150));
        assert_eq!(tier_of(&s, 100, 90), Some(300), "exactly 90 %");
        assert_eq!(tier_of(&s, 100, 100), Some(300));
        // 29 answers, all satisfied: under the minimum number of answers.
        assert_eq!(tier_of(&s, 29, 29), None);
        assert_eq!(tier_of(&s, 30, 27), Some(300), "27/30 = 90 %");
    }

    /// On the Wilson bound, the same raw rate needs more answers to reach a tier.
    #[test]
    fn wilson_is_stricter_than_the_raw_rate() {
        let w = BonusScheme::default();
        assert_eq!(tier_of(&w, 100, 90), Some(150), "Wilson of 90/100 is 0.826");
        assert_eq!(
            tier_of(&w, 1000, 925),
            Some(300),
            "Wilson of 925/1000 is 0.907"
        );
    }

    /// The amount: base × tier, rounded half-up to the cent.
    #[test]
    fn bonus_amount_is_rounded_half_up() {
        use cep_domain::billable::Verdict;
        use cep_domain::{Closure, ClosureKind, Lot};
        let unit = |uo: WorkUnit| Unit {
            numero_dossier: "A7250101000001".into(),
            lot: Lot::new(8).unwrap(),
            uo,
            engagement: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
            closure: Closure {
                date: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
                kind: ClosureKind::Voluntary,
            },
            reference_bc: None,
            numero_decompte: None,
            concurrent: false,
            verdict: Verdict {
                reasons: vec![],
                consumes: None,
            },
        };
        // Base: 3 units at 333.33 € (UO1) = 999.99 €; UO0 does not count.
        let units = vec![
            unit(WorkUnit::Uo1),
            unit(WorkUnit::Uo1),
            unit(WorkUnit::Uo1),
            unit(WorkUnit::Uo0),
        ];
        let b = &bonuses(
            &raw(),
            "2025-S1".parse().unwrap(),
            &answers("08", 100, 95),
            &units,
            |_| 33_333,
        )[0];
        assert_eq!(b.base_ht_cents, 99_999);
        // 3 % of 999.99 € = 29.9997 € → 30.00 €.
        assert_eq!(b.bonus_ht_cents, 3_000);
        assert_eq!(b.scheme_version, "hypothese-2025-1");
        // Answers outside the half-year do not count.
        let late = vec![(
            "08".to_owned(),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            true,
        )];
        let b = &bonuses(&raw(), "2025-S1".parse().unwrap(), &late, &units, |_| {
            33_333
        })[0];
        assert_eq!((b.answers, b.bonus_ht_cents), (0, 0));
        assert!(b.note.contains("0 réponses"));
    }
}
