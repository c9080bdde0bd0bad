//! Accuracy floor on a small generated set (the full-size figures come from `cep bench link`).

use cep_link::eval::{accuracy, baseline_exact, baseline_nir, labels_of};
use cep_link::synth::fields;
use cep_link::{Decisions, Features, Settings, link_all};
use cep_synth::{PeopleConfig, people};

#[test]
fn accuracy_floor_on_generated_people() {
    let records = people(&PeopleConfig::new(11, 30_000));
    let features: Vec<Features> = records.iter().map(|r| Features::of(&fields(r))).collect();
    let truth: Vec<u32> = records.iter().map(|r| r.person).collect();
    let lots: Vec<String> = records.iter().map(|r| r.lot.to_string()).collect();
    let lots: Vec<&str> = lots.iter().map(String::as_str).collect();
    let outcome = link_all(&features, None, &Decisions::default(), &Settings::default());
    let predicted = labels_of(&outcome.groups, features.len());
    let a = accuracy(&predicted, &truth, &lots);
    let exact = accuracy(&baseline_exact(&features), &truth, &lots);
    let nir = accuracy(&baseline_nir(&features), &truth, &lots);
    eprintln!(
        "model {:?}\nstats {:?}",
        outcome.model.level_weights(),
        outcome.stats
    );
    eprintln!("linker {a:?}\nexact {exact:?}\nnir {nir:?}");
    assert!(
        a.pairwise.precision >= 0.99 && a.pairwise.recall >= 0.99,
        "{a:?}"
    );
    assert!(
        a.bcubed.precision >= 0.99 && a.bcubed.recall >= 0.99,
        "{a:?}"
    );
    assert!(
        a.cross_lot.precision >= 0.98 && a.cross_lot.recall >= 0.98,
        "{a:?}"
    );
    // Twins and homonyms (same surname and birth date, another first name) stay apart.
    let lookalikes = records.iter().filter(|r| r.lookalike.is_some()).count();
    let mixed = outcome
        .groups
        .iter()
        .filter(|g| {
            g.iter().any(|&m| records[m as usize].lookalike.is_some())
                && g.iter()
                    .any(|&m| records[m as usize].person != records[g[0] as usize].person)
        })
        .count();
    eprintln!("{mixed} clusters mix one of {lookalikes} look-alike records with another person");
    assert!(lookalikes > 400);
    assert!(mixed * 100 <= lookalikes, "{mixed} of {lookalikes}");
    // The linker beats both baselines on cross-lot recall.
    assert!(a.cross_lot.recall > exact.cross_lot.recall);
    assert!(a.cross_lot.recall > nir.cross_lot.recall);
}
