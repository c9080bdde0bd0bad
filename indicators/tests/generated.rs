//! On a generated dataset ingested file by file:
//! - a run stored at a cut-off is recomputed identically after later files arrived
//!   (DESIGN decision 2), on both backends;
//! - every value of every month and half-year agrees exactly with a plain row-by-row
//!   implementation of `indicators-v1` written here, independently of the Polars stages.

use cep_domain::{Lot, WorkUnit, YearMonth, add_months};
use cep_indicators::inputs::{Dimension, DossierFacts, Inputs, OrderFacts};
use cep_indicators::run::stored_values;
use cep_indicators::{IndicatorValue, Period, Prepared};
use cep_ingest::buyer::{ImportKind, import};
use cep_ingest::{Channel, Ingestor, Submission};
use cep_store::models::indicators::IndicatorRun;
use cep_store::testing::TestDb;
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Feed files in reception order, with the day in their name.
fn files(inbox: &Path) -> Vec<(NaiveDate, Lot, PathBuf)> {
    let mut out = Vec::new();
    for lot_dir in std::fs::read_dir(inbox).unwrap() {
        let lot_dir = lot_dir.unwrap().path();
        let lot = Lot::parse(&lot_dir.file_name().unwrap().to_string_lossy()[1..]).unwrap();
        for f in std::fs::read_dir(&lot_dir).unwrap() {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let Some(day) = name.split('_').nth(3) else {
                continue;
            };
            let Ok(day) = NaiveDate::parse_from_str(day, "%Y%m%d") else {
                continue;
            };
            out.push((day, lot, path));
        }
    }
    out.sort();
    out
}

/// Generates `months` from January 2025, imports the buyer side, and ingests every file
/// received on `day` at 18:00 UTC; `at_cutoff` runs once everything received by `cutoff`
/// is in (after linking).
fn dataset(
    db: &TestDb,
    dir: &Path,
    months: u32,
    cutoff: NaiveDateTime,
    mut at_cutoff: impl FnMut(&TestDb),
) {
    let feeds = dir.join("feeds");
    let config = cep_synth::SynthConfig::new(11, "2025-01".parse().unwrap(), months, 0.012);
    cep_synth::generate(&config, &feeds).unwrap();
    for kind in [
        ImportKind::Operators,
        ImportKind::PurchaseOrders,
        ImportKind::Surveys,
        ImportKind::MysteryContacts,
        ImportKind::DeliverableControls,
        ImportKind::Populations,
    ] {
        let file = feeds.join("buyer").join(format!("{}.csv", kind.as_str()));
        import(&db.store, kind, &file).unwrap();
    }
    let ingestor = Ingestor::new(db.store.clone(), dir);
    let mut done = false;
    for (day, lot, path) in files(&feeds.join("inbox")) {
        let received = Utc.from_utc_datetime(&day.and_hms_opt(18, 0, 0).unwrap());
        if received.naive_utc() > cutoff && !done {
            cep_link::run::run(&db.store, cep_link::Mode::Full, &Default::default()).unwrap();
            at_cutoff(db);
            done = true;
        }
        let sub = Submission {
            file_name: path.file_name().unwrap().to_string_lossy().into(),
            lot,
            channel: Channel::Inbox,
            received_at: Some(received),
            json_kind: None,
        };
        ingestor.ingest_file(&path, &sub).unwrap();
    }
    cep_link::run::run(&db.store, cep_link::Mode::Incremental, &Default::default()).unwrap();
    if !done {
        at_cutoff(db);
    }
}

#[test]
fn a_stored_run_is_recomputed_identically_after_later_fiches() {
    cep_store::testing::each_backend(|db| {
        let tmp = tempfile::tempdir().unwrap();
        let t1: NaiveDateTime = "2025-03-05T00:00:00".parse().unwrap();
        let february = Period::Month("2025-02".parse().unwrap());
        let mut stored = None;
        dataset(db, tmp.path(), 4, t1, |db| {
            let mut c = db.conn();
            let values =
                cep_indicators::compute_at(&mut c, february, t1, Default::default()).unwrap();
            assert!(values.iter().any(|v| v.code == "1.2" && v.numerator > 0));
            let run = cep_indicators::store_run(&mut c, february, t1, Default::default(), &values)
                .unwrap();
            stored = Some((run.id, values));
        });
        let (id, before) = stored.expect("the cut-off falls inside the dataset");
        let mut c = db.conn();
        // Later fiches changed the picture…
        let now = cep_store::models::now_utc();
        let later = cep_indicators::compute_at(&mut c, february, now, Default::default()).unwrap();
        assert_ne!(later, before, "later files must change February's figures");
        // …but not February as known at T1, recomputed or read back.
        let again = cep_indicators::compute_at(&mut c, february, t1, Default::default()).unwrap();
        assert_eq!(again, before);
        let run = IndicatorRun::get(&mut c, id).unwrap().unwrap();
        assert_eq!(run.cutoff, t1);
        assert_eq!(run.period, "2025-02");
        assert_eq!(stored_values(&mut c, &run).unwrap(), before);
    });
}

#[test]
fn every_value_agrees_with_a_plain_row_by_row_implementation() {
    let db = TestDb::sqlite();
    let tmp = tempfile::tempdir().unwrap();
    let cutoff: NaiveDateTime = "2025-09-20T00:00:00".parse().unwrap();
    let mut inputs = None;
    dataset(&db, tmp.path(), 9, cutoff, |db| {
        inputs =
            Some(cep_indicators::load::load(&mut db.conn(), cutoff, Default::default()).unwrap());
    });
    let inputs = inputs.unwrap();
    assert!(inputs.dossiers.len() > 1000, "{}", inputs.dossiers.len());
    let prepared = Prepared::new(&inputs).unwrap();
    let mut periods: Vec<Period> = (1..=8)
        .map(|m| Period::Month(YearMonth::new(2025, m).unwrap()))
        .collect();
    periods.push(Period::Half("2025-S1".parse().unwrap()));
    let mut checked = 0;
    let mut nonzero = BTreeSet::new();
    for period in periods {
        let polars = by_key(prepared.compute(period).unwrap());
        let plain = plain(&inputs, period);
        assert_eq!(
            polars.keys().collect::<Vec<_>>(),
            plain.keys().collect::<Vec<_>>(),
            "{period}: rows"
        );
        for (k, p) in &polars {
            let q = &plain[k];
            assert_eq!(
                (p.numerator, p.denominator, p.value, p.median),
                (q.numerator, q.denominator, q.value, q.median),
                "{period} {k:?}"
            );
            for (a, b) in [(p.mean, q.mean), (p.wilson_lower, q.wilson_lower)] {
                assert_eq!(a.is_some(), b.is_some(), "{period} {k:?}");
                if let (Some(a), Some(b)) = (a, b) {
                    assert!((a - b).abs() < 1e-9, "{period} {k:?}: {a} vs {b}");
                }
            }
            if p.numerator > 0 {
                nonzero.insert(k.0.clone());
            }
            checked += 1;
        }
    }
    // The dataset exercises (nearly) every indicator: each code has some non-zero value.
    let all: BTreeSet<String> = cep_indicators::compute::MONTHLY
        .iter()
        .chain(cep_indicators::compute::HALF_YEARLY.iter())
        .map(|c| (*c).to_owned())
        .collect();
    let missing: Vec<_> = all.difference(&nonzero).collect();
    eprintln!("never non-zero: {missing:?}; {checked} values checked");
    assert!(missing.len() <= 3, "never non-zero: {missing:?}");
    assert!(checked > 5000, "{checked}");
}

type Key = (String, String, String);

/// A buyer-side event: its lot, date and whether it is positive.
type Event = (Option<Lot>, NaiveDate, bool);

fn by_key(values: Vec<IndicatorValue>) -> BTreeMap<Key, IndicatorValue> {
    values
        .into_iter()
        .map(|v| ((v.code.clone(), v.lot.clone(), v.category.clone()), v))
        .collect()
}

// ---- The plain implementation: loops over the rows, straight from the spec's text. ----

fn value(code: &str, lot: &str, category: &str, num: i64, den: Option<f64>) -> IndicatorValue {
    IndicatorValue {
        code: code.into(),
        lot: lot.into(),
        category: category.into(),
        numerator: num,
        denominator: den,
        value: den.filter(|d| *d != 0.0).map(|d| num as f64 / d),
        median: None,
        mean: None,
        wilson_lower: None,
    }
}

fn median(mut xs: Vec<i64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort();
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2] as f64
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) as f64 / 2.0
    })
}

fn lots() -> Vec<String> {
    Lot::all().map(|l| l.to_string()).collect()
}

fn regions() -> Vec<String> {
    Lot::regional().map(|l| l.to_string()).collect()
}

fn in_span(d: Option<NaiveDate>, from: NaiveDate, to: NaiveDate) -> bool {
    d.is_some_and(|d| from <= d && d <= to)
}

fn quad(code: &str) -> WorkUnit {
    match &code[2..] {
        "1" => WorkUnit::Uo0,
        "2" => WorkUnit::Uo1,
        "3" => WorkUnit::Uo21,
        _ => WorkUnit::Uo22,
    }
}

fn current(inputs: &Inputs, lot: Lot, uo: WorkUnit, m: YearMonth) -> Option<&OrderFacts> {
    let day = m.last_day();
    let mut best: Option<&OrderFacts> = None;
    for o in &inputs.orders {
        if o.lot == lot && o.uo == uo && o.start <= day && day <= o.end {
            let better = match best {
                None => true,
                Some(b) => (o.notified, &o.reference) > (b.notified, &b.reference),
            };
            if better {
                best = Some(o);
            }
        }
    }
    best
}

fn population(
    inputs: &Inputs,
    region: &str,
    year: i32,
    dim: Dimension,
    code: &str,
    active: bool,
) -> Option<i64> {
    let mut best: Option<(i32, i64)> = None;
    for p in &inputs.populations {
        let v = if active { p.active } else { p.target };
        let matches = p.region.to_string() == region
            && p.dimension == dim
            && p.code == code
            && p.year <= year;
        if let Some(v) = v.filter(|_| matches)
            && best.is_none_or(|(y, _)| p.year > y)
        {
            best = Some((p.year, v));
        }
    }
    best.map(|(_, v)| v)
}

/// Sum over the 18 regions, unknown if one is.
fn national_population(per: impl Iterator<Item = Option<i64>>) -> Option<f64> {
    let mut total = 0;
    for p in per {
        total += p?;
    }
    Some(total as f64)
}

fn plain(inputs: &Inputs, period: Period) -> BTreeMap<Key, IndicatorValue> {
    let mut out = Vec::new();
    let ds = &inputs.dossiers;
    let first = period.first_day();
    let end = period.last_day();
    let lot_of = |d: &DossierFacts| d.lot.to_string();
    let region_of = |d: &DossierFacts| d.region.to_string();
    let second = |d: &DossierFacts| matches!(d.uo, WorkUnit::Uo21 | WorkUnit::Uo22);
    let closed_in = |d: &DossierFacts, a, b| in_span(d.closure, a, b);
    match period {
        Period::Month(m) => {
            let year_start = NaiveDate::from_ymd_opt(m.year(), 1, 1).unwrap();
            // 1.x, 4.x, 5.x: per lot, national = lots with a denominator.
            for code in [
                "1.1", "1.2", "1.3", "1.4", "4.1", "4.2", "4.3", "4.4", "5.1", "5.2", "5.3", "5.4",
            ] {
                let uo = quad(code);
                let (mut nn, mut nd, mut any) = (0, 0.0, false);
                for l in Lot::all() {
                    let cur = current(inputs, l, uo, m);
                    let (num, den) = match &code[..1] {
                        "1" => (
                            ds.iter()
                                .filter(|d| {
                                    d.lot == l
                                        && d.uo == uo
                                        && d.eligible
                                        && d.engagement <= end
                                        && cur.is_some_and(|o| {
                                            d.order.as_deref() == Some(&o.reference)
                                        })
                                })
                                .count() as i64,
                            cur.map(|o| o.quantity as f64),
                        ),
                        "4" => (
                            ds.iter()
                                .filter(|d| {
                                    d.lot == l
                                        && d.uo == uo
                                        && d.closure.is_some_and(|c| c <= end)
                                        && cur.is_some_and(|o| {
                                            d.consumes.as_deref() == Some(&o.reference)
                                        })
                                })
                                .count() as i64,
                            cur.map(|o| o.quantity as f64),
                        ),
                        _ => {
                            let orders: Vec<_> = inputs
                                .orders
                                .iter()
                                .filter(|o| o.lot == l && o.uo == uo && o.notified <= end)
                                .collect();
                            (
                                ds.iter()
                                    .filter(|d| {
                                        d.lot == l
                                            && d.uo == uo
                                            && d.consumes.is_some()
                                            && d.closure.is_some_and(|c| c <= end)
                                    })
                                    .count() as i64,
                                // A sum over the notified orders: 0 when none is.
                                Some(orders.iter().map(|o| o.quantity).sum::<i64>() as f64),
                            )
                        }
                    };
                    if let Some(den) = den {
                        nn += num;
                        nd += den;
                        any = true;
                    }
                    out.push(value(code, &l.to_string(), "", num, den));
                }
                out.push(value(code, "national", "", nn, any.then_some(nd)));
            }
            // 2.x by region.
            let engaged = |d: &DossierFacts, uo0: bool| {
                (d.uo == WorkUnit::Uo0) == uo0 && year_start <= d.engagement && d.engagement <= end
            };
            for (code, uo0) in [("2.1", true), ("2.2", false)] {
                let mut per = Vec::new();
                for r in regions() {
                    let persons: BTreeSet<&str> = ds
                        .iter()
                        .filter(|d| region_of(d) == r && engaged(d, uo0))
                        .map(|d| d.person.as_str())
                        .collect();
                    let pop = population(inputs, &r, m.year(), Dimension::Total, "", uo0);
                    per.push(pop);
                    out.push(value(
                        code,
                        &r,
                        "",
                        persons.len() as i64,
                        pop.map(|p| p as f64),
                    ));
                }
                let persons: BTreeSet<&str> = ds
                    .iter()
                    .filter(|d| engaged(d, uo0))
                    .map(|d| d.person.as_str())
                    .collect();
                out.push(value(
                    code,
                    "national",
                    "",
                    persons.len() as i64,
                    national_population(per.into_iter()),
                ));
            }
            for (code, dim, table) in [
                (
                    "2.3",
                    Dimension::SocialCategory,
                    cep_domain::RefTable::CategorieSociale,
                ),
                ("2.4", Dimension::Status, cep_domain::RefTable::Statut),
            ] {
                let cat_of = |d: &DossierFacts| -> Option<String> {
                    if code == "2.3" {
                        d.categorie_sociale.clone()
                    } else {
                        Some(d.statut.clone())
                    }
                };
                let mut groups: Vec<Option<String>> = regions().into_iter().map(Some).collect();
                groups.push(None);
                for g in &groups {
                    // Each person's latest qualifying dossier (horodatage, then number).
                    let mut latest: HashMap<&str, &DossierFacts> = HashMap::new();
                    for d in ds.iter().filter(|d| {
                        engaged(d, false) && g.as_ref().is_none_or(|r| &region_of(d) == r)
                    }) {
                        let e = latest.entry(&d.person).or_insert(d);
                        if (d.horodatage, &d.numero) > (e.horodatage, &e.numero) {
                            *e = d;
                        }
                    }
                    let total = latest.len() as i64;
                    let name = g.clone().unwrap_or_else(|| "national".into());
                    for (c, _) in table.entries() {
                        let n = latest
                            .values()
                            .filter(|d| cat_of(d).as_deref() == Some(*c))
                            .count();
                        let pop = match g {
                            Some(r) => {
                                population(inputs, r, m.year(), dim, c, false).map(|p| p as f64)
                            }
                            None => national_population(
                                regions()
                                    .iter()
                                    .map(|r| population(inputs, r, m.year(), dim, c, false)),
                            ),
                        };
                        out.push(value(
                            code,
                            &name,
                            c,
                            n as i64,
                            Some(pop.unwrap_or(total as f64)),
                        ));
                    }
                }
            }
            // 3.
            let ly = YearMonth::new(m.year() - 1, m.month()).unwrap();
            let ly_start = NaiveDate::from_ymd_opt(m.year() - 1, 1, 1).unwrap();
            let mut groups: Vec<Option<String>> = regions().into_iter().map(Some).collect();
            groups.push(None);
            for g in &groups {
                let mine = |d: &&DossierFacts| {
                    d.uo != WorkUnit::Uo0 && g.as_ref().is_none_or(|r| &region_of(d) == r)
                };
                let now = ds
                    .iter()
                    .filter(mine)
                    .filter(|d| year_start <= d.engagement && d.engagement <= end)
                    .count() as i64;
                let before = ds
                    .iter()
                    .filter(mine)
                    .filter(|d| ly_start <= d.engagement && d.engagement <= ly.last_day())
                    .count() as f64;
                let mut v = value(
                    "3",
                    g.as_deref().unwrap_or("national"),
                    "",
                    now,
                    Some(before),
                );
                v.value = (before != 0.0).then(|| now as f64 / before - 1.0);
                out.push(v);
            }
            // 6.x per lot and national.
            let mut groups: Vec<Option<String>> = lots().into_iter().map(Some).collect();
            groups.push(None);
            for g in &groups {
                let name = g.as_deref().unwrap_or("national");
                let mine: Vec<&DossierFacts> = ds
                    .iter()
                    .filter(|d| g.as_ref().is_none_or(|l| &lot_of(d) == l))
                    .collect();
                let c61: Vec<_> = mine
                    .iter()
                    .filter(|d| second(d) && closed_in(d, first, end))
                    .collect();
                out.push(value(
                    "6.1",
                    name,
                    "",
                    c61.iter().filter(|d| d.complementary).count() as i64,
                    Some(c61.len() as f64),
                ));
                for (code, uo) in [
                    ("6.2", WorkUnit::Uo1),
                    ("6.3", WorkUnit::Uo21),
                    ("6.4", WorkUnit::Uo22),
                ] {
                    let days: Vec<i64> = mine
                        .iter()
                        .filter(|d| d.uo == uo && d.voluntary && closed_in(d, first, end))
                        .map(|d| (d.closure.unwrap() - d.engagement).num_days())
                        .collect();
                    let mut v = value(code, name, "", days.iter().sum(), Some(days.len() as f64));
                    v.median = median(days);
                    out.push(v);
                }
                for (code, uo) in [
                    ("6.5", WorkUnit::Uo1),
                    ("6.6", WorkUnit::Uo21),
                    ("6.7", WorkUnit::Uo22),
                ] {
                    let n = mine
                        .iter()
                        .filter(|d| {
                            d.uo == uo
                                && d.closure.is_some()
                                && !d.voluntary
                                && in_span(d.deadline, first, end)
                        })
                        .count() as i64;
                    let mut v = value(code, name, "", n, None);
                    v.value = Some(n as f64);
                    out.push(v);
                }
                let m3 = m.plus(-3);
                let closures: Vec<&&DossierFacts> = mine
                    .iter()
                    .filter(|d| second(d) && closed_in(d, m3.first_day(), m3.last_day()))
                    .collect();
                let den: BTreeSet<&str> = closures.iter().map(|d| d.person.as_str()).collect();
                let num: BTreeSet<&str> = closures
                    .iter()
                    .filter(|c| {
                        let closure = c.closure.unwrap();
                        ds.iter().any(|e| {
                            e.person == c.person
                                && matches!(e.uo, WorkUnit::Uo1 | WorkUnit::Uo21)
                                && closure < e.engagement
                                && e.engagement <= add_months(closure, 3)
                        })
                    })
                    .map(|d| d.person.as_str())
                    .collect();
                out.push(value(
                    "6.8",
                    name,
                    "",
                    num.len() as i64,
                    Some(den.len() as f64),
                ));
            }
        }
        Period::Half(h) => {
            let p = h.to_string();
            for (i, code) in ["7.1", "7.2", "7.3", "7.4"].into_iter().enumerate() {
                let uo = quad(code);
                let (mut nn, mut nd, mut any) = (0, 0.0, false);
                for l in Lot::all() {
                    let num = ds
                        .iter()
                        .filter(|d| {
                            d.lot == l
                                && d.uo == uo
                                && d.consumes.is_some()
                                && closed_in(d, first, end)
                        })
                        .count() as i64;
                    let den = inputs
                        .means
                        .iter()
                        .find(|m| m.lot == l && m.period == p)
                        .map(|m| m.fte_hundredths[i])
                        .filter(|f| *f > 0)
                        .map(|f| f as f64 / 100.0);
                    if let Some(den) = den {
                        nn += num;
                        nd += den;
                        any = true;
                    }
                    out.push(value(code, &l.to_string(), "", num, den));
                }
                out.push(value(code, "national", "", nn, any.then_some(nd)));
            }
            let mut groups: Vec<Option<String>> = lots().into_iter().map(Some).collect();
            groups.push(None);
            for g in &groups {
                let name = g.as_deref().unwrap_or("national");
                let of_group = |l: Option<Lot>| {
                    l.is_some_and(|l| g.as_ref().is_none_or(|x| &l.to_string() == x))
                };
                let events: [(&str, Vec<Event>); 4] = [
                    (
                        "8.1",
                        inputs
                            .surveys
                            .iter()
                            .map(|s| (s.lot, s.date, s.satisfied))
                            .collect(),
                    ),
                    (
                        "8.3",
                        inputs
                            .mystery
                            .iter()
                            .map(|s| (Some(s.lot), s.date, s.compliant))
                            .collect(),
                    ),
                    (
                        "8.5",
                        inputs
                            .controls
                            .iter()
                            .map(|s| (s.lot, s.date, s.compliant))
                            .collect(),
                    ),
                    (
                        "8.7",
                        inputs
                            .complaints
                            .iter()
                            .map(|s| (Some(s.lot), s.received, s.mediated))
                            .collect(),
                    ),
                ];
                for (code, rows) in events {
                    let inside: Vec<_> = rows
                        .iter()
                        .filter(|(l, d, _)| of_group(*l) && first <= *d && *d <= end)
                        .collect();
                    let k = inside.iter().filter(|r| r.2).count() as i64;
                    let n = inside.len() as f64;
                    let mut v = value(code, name, "", k, Some(n));
                    if code == "8.1" && n > 0.0 {
                        let (z, p) = (1.959964f64, k as f64 / n);
                        v.wilson_lower = Some(
                            (p + z * z / (2.0 * n)
                                - z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt())
                                / (1.0 + z * z / n),
                        );
                    }
                    out.push(v);
                }
                let mine: Vec<&DossierFacts> = ds
                    .iter()
                    .filter(|d| g.as_ref().is_none_or(|l| &lot_of(d) == l))
                    .collect();
                let closed: Vec<_> = mine
                    .iter()
                    .filter(|d| second(d) && closed_in(d, first, end))
                    .collect();
                for (t, _) in cep_domain::RefTable::TypeService.entries() {
                    let n = closed
                        .iter()
                        .filter(|d| d.types_service.iter().any(|x| x == t))
                        .count() as i64;
                    out.push(value("8.2", name, t, n, Some(closed.len() as f64)));
                }
                let with: Vec<_> = closed.iter().filter(|d| d.complementary).collect();
                let auto = with
                    .iter()
                    .filter(|d| d.auto_prescription == Some(true))
                    .count() as i64;
                out.push(value("8.6", name, "", auto, Some(with.len() as f64)));
                let asked: Vec<i64> = mine
                    .iter()
                    .filter(|d| {
                        matches!(d.uo, WorkUnit::Uo1 | WorkUnit::Uo21)
                            && in_span(d.first_interaction, first, end)
                            && d.rdv_request.is_some()
                    })
                    .map(|d| d.rdv_delay.unwrap())
                    .collect();
                let within = asked.iter().filter(|x| **x <= 30).count() as i64;
                let mut v = value("8.4", name, "", within, Some(asked.len() as f64));
                v.mean = (!asked.is_empty())
                    .then(|| asked.iter().sum::<i64>() as f64 / asked.len() as f64);
                v.median = median(asked);
                out.push(v);
            }
        }
    }
    let _ = Datelike::year(&first);
    by_key(out)
}
