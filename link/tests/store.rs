//! Linking runs against a real store (SQLite and PostgreSQL): stable ids across incremental
//! runs, analysts' decisions surviving re-runs, the NIR rule, the export.

use cep_link::run::{Mode, decide, run};
use cep_link::{LinkError, Settings};
use cep_store::models::link::{LinkEvent, linkage};
use cep_store::testing::{TestDb, each_backend};
use cep_synth::{PeopleConfig, PersonRecord, people};
use std::collections::HashMap;

fn add(db: &TestDb, records: &[PersonRecord]) {
    cep_link::synth::write(&mut db.store.conn().unwrap(), records).unwrap();
}

/// (lot, identifiant) → national person id.
fn ids(db: &TestDb) -> HashMap<(String, String), String> {
    linkage(&mut db.store.conn().unwrap())
        .unwrap()
        .into_iter()
        .map(|(l, i, p)| ((l, i), p.expect("every operator person is linked")))
        .collect()
}

fn key(r: &PersonRecord) -> (String, String) {
    (r.lot.to_string(), r.identifiant_beneficiaire.clone())
}

/// Same true person ⇔ same national id, on this set.
fn agree_with_truth(
    records: &[PersonRecord],
    ids: &HashMap<(String, String), String>,
) -> (usize, usize) {
    let (mut wrong_merges, mut missed) = (0, 0);
    for (i, a) in records.iter().enumerate() {
        for b in &records[i + 1..] {
            let same_id = ids[&key(a)] == ids[&key(b)];
            match (a.person == b.person, same_id) {
                (false, true) => wrong_merges += 1,
                (true, false) => missed += 1,
                _ => {}
            }
        }
    }
    (wrong_merges, missed)
}

#[test]
fn incremental_runs_keep_ids_and_attach_new_records() {
    each_backend(|db| {
        let all = people(&PeopleConfig::new(5, 1_600));
        // A later day brings the second and third operators' records of the second half of
        // the persons: records of persons already known, and nothing else.
        let half = all[800].person;
        let mut seen = std::collections::HashSet::new();
        let (later, first): (Vec<PersonRecord>, Vec<PersonRecord>) = all
            .iter()
            .cloned()
            .partition(|r| !seen.insert(r.person) && r.person >= half);
        let (first, later) = (&first[..], &later[..]);
        assert!(later.len() > 50, "{} later records", later.len());
        add(db, first);
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert_eq!(s.mode, Mode::Full, "the first run is a full one");
        assert_eq!(s.ids_changed, first.len());
        let before = ids(db);
        let (wrong, missed) = agree_with_truth(first, &before);
        assert!(
            wrong <= 1 && missed <= 3,
            "{wrong} wrong merges, {missed} missed pairs"
        );

        // A later day: new records, some of persons already known.
        add(db, later);
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert_eq!(s.mode, Mode::Incremental);
        assert_eq!(s.relinked, later.len());
        let after = ids(db);
        // Every person not named by a merge or split keeps its id (the later records are
        // only of known persons, so a merge would be the only reason to change).
        let events = LinkEvent::list(&mut db.store.conn().unwrap(), None).unwrap();
        let moved: std::collections::HashSet<&str> = events
            .iter()
            .flat_map(|e| {
                [
                    e.national_person_id.as_str(),
                    e.other_national_person_id.as_str(),
                ]
            })
            .collect();
        for (k, id) in &before {
            if !moved.contains(id.as_str()) {
                assert_eq!(
                    &after[k], id,
                    "{k:?} changed id although nothing related arrived"
                );
            }
        }
        // New records of known persons got the known person's id.
        let known: HashMap<u32, &String> =
            first.iter().map(|r| (r.person, &before[&key(r)])).collect();
        let mut attached = 0;
        for r in later {
            if let Some(id) = known.get(&r.person) {
                attached += usize::from(&after[&key(r)] == *id);
            }
        }
        assert!(
            attached >= later.len() * 95 / 100,
            "{attached} of {} later records joined their known person",
            later.len()
        );
        let (wrong, missed) = agree_with_truth(&all, &after);
        assert!(
            wrong <= 2 && missed <= 5,
            "{wrong} wrong merges, {missed} missed pairs"
        );

        // Running again with nothing new changes nothing.
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert_eq!((s.relinked, s.ids_changed), (0, 0));
        // A full run re-estimates the model and keeps every id of an unchanged cluster.
        let s = run(&db.store, Mode::Full, &Settings::default()).unwrap();
        assert_eq!(s.ids_changed, 0, "same data, same clusters, same ids");
        assert_eq!(ids(db), after);
    });
}

fn pair(db: &TestDb) -> (PersonRecord, PersonRecord) {
    // One person recorded by two operators, and nobody else.
    let records = people(&PeopleConfig {
        several_lots: 1.0,
        twins: 0.0,
        homonyms: 0.0,
        ..PeopleConfig::new(3, 2)
    });
    // The second operator recorded the same identity as the first (the generator's own
    // habits may record it differently enough to need a NIR: not what these tests are about).
    let a = records[0].clone();
    let b = PersonRecord {
        lot: records[1].lot,
        identifiant_beneficiaire: records[1].identifiant_beneficiaire.clone(),
        ..a.clone()
    };
    assert_eq!(a.person, records[1].person);
    assert_ne!(a.lot, b.lot);
    add(db, &[a.clone(), b.clone()]);
    (a, b)
}

#[test]
fn an_analysts_decision_survives_every_later_run() {
    each_backend(|db| {
        let (a, b) = pair(db);
        run(&db.store, Mode::Full, &Settings::default()).unwrap();
        assert_eq!(
            ids(db)[&key(&a)],
            ids(db)[&key(&b)],
            "the generator's pair is linked"
        );

        let (ka, kb) = (key(&a), key(&b));
        decide(
            &db.store,
            (&ka.0, &ka.1),
            (&kb.0, &kb.1),
            false,
            "analyste",
            "homonymes vérifiés",
        )
        .unwrap();
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert_eq!(s.splits, 1);
        let split = ids(db);
        assert_ne!(split[&ka], split[&kb]);
        for mode in [Mode::Incremental, Mode::Full, Mode::Incremental] {
            run(&db.store, mode, &Settings::default()).unwrap();
            assert_eq!(ids(db), split, "{mode:?} run keeps the decision");
        }
        let events = LinkEvent::list(&mut db.store.conn().unwrap(), Some(&split[&kb])).unwrap();
        assert!(events.iter().any(|e| e.kind == "split"), "{events:?}");

        // Changing one's mind: the latest decision holds.
        decide(
            &db.store,
            (&kb.0, &kb.1),
            (&ka.0, &ka.1),
            true,
            "analyste",
            "erreur corrigée",
        )
        .unwrap();
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert_eq!(s.merges, 1);
        assert_eq!(ids(db)[&ka], ids(db)[&kb]);
        run(&db.store, Mode::Full, &Settings::default()).unwrap();
        assert_eq!(ids(db)[&ka], ids(db)[&kb]);
    });
}

#[test]
fn two_valid_nirs_cannot_be_declared_the_same_and_unknown_ids_are_refused() {
    let db = TestDb::sqlite();
    let records = people(&PeopleConfig {
        several_lots: 0.0,
        twins: 0.0,
        homonyms: 0.0,
        ..PeopleConfig::new(9, 400)
    });
    let with_nir: Vec<PersonRecord> = records
        .into_iter()
        .filter(|r| {
            r.nir
                .as_ref()
                .is_some_and(|n| cep_domain::Nir::parse(n).is_ok())
                && r.corruptions.is_empty()
        })
        .take(2)
        .collect();
    assert_eq!(with_nir.len(), 2);
    add(&db, &with_nir);
    let (ka, kb) = (key(&with_nir[0]), key(&with_nir[1]));
    let err = decide(&db.store, (&ka.0, &ka.1), (&kb.0, &kb.1), true, "a", "b").unwrap_err();
    assert!(matches!(err, LinkError::NirConflict { .. }), "{err}");
    let err = decide(&db.store, (&ka.0, &ka.1), ("07", "nobody"), false, "a", "b").unwrap_err();
    assert!(matches!(err, LinkError::UnknownPerson { .. }), "{err}");
    let err = decide(&db.store, (&ka.0, &ka.1), (&ka.0, &ka.1), false, "a", "b").unwrap_err();
    assert!(matches!(err, LinkError::SamePerson), "{err}");
}

#[test]
fn a_corrected_identity_is_looked_at_again_by_the_next_incremental_run() {
    each_backend(|db| {
        let records = people(&PeopleConfig {
            several_lots: 0.0,
            twins: 0.0,
            homonyms: 0.0,
            ..PeopleConfig::new(21, 300)
        });
        add(db, &records);
        run(&db.store, Mode::Full, &Settings::default()).unwrap();
        let before = ids(db);
        // The operator of record 0 corrects its beneficiary's identity: it was in fact the
        // person of record 1, recorded by another operator.
        let (wrong, right) = (&records[0], &records[1]);
        assert_ne!(before[&key(wrong)], before[&key(right)]);
        let corrected = right.clone();
        let mut conn = db.store.conn().unwrap();
        let (op, _) = cep_store::models::link::operator_person(
            &mut conn,
            &wrong.lot.to_string(),
            &wrong.identifiant_beneficiaire,
        )
        .unwrap()
        .unwrap();
        let identity = cep_link::synth::identity_record(op, &corrected, "corrected");
        cep_store::models::ingest::insert_identities(&mut conn, &mut [identity]).unwrap();
        drop(conn);
        let s = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
        assert!(s.relinked >= 1, "{s:?}");
        let after = ids(db);
        assert_eq!(
            after[&key(wrong)],
            after[&key(right)],
            "linked to its true person now"
        );
        // Nobody else moved.
        for r in &records[2..] {
            assert_eq!(after[&key(r)], before[&key(r)]);
        }
    });
}

/// Issue 20: `cep link` on SQLite failed with "database or disk is full" while writing the
/// blocking keys of a store of 87,000 operator persons (a year at scale 0.2), with plenty of disk
/// and no system call failing: SQLite's temporary files (its default temp store) were the part
/// that refused. The store now keeps its temporary tables in memory. At the size of the report.
#[test]
fn a_full_run_on_sqlite_writes_the_blocking_keys_of_90_000_persons() {
    let db = TestDb::sqlite();
    let mut config = PeopleConfig::new(20, 90_000);
    config.several_lots = 0.15;
    let records = people(&config);
    {
        use diesel::Connection;
        let mut conn = db.store.conn().unwrap();
        for chunk in records.chunks(30_000) {
            conn.transaction::<_, cep_store::StoreError, _>(|c| cep_link::synth::write(c, chunk))
                .unwrap();
        }
    }
    let s = run(&db.store, Mode::Full, &Settings::default()).unwrap();
    assert_eq!(s.records, records.len());
    let keys: i64 = {
        use diesel::prelude::*;
        cep_store::schema::link_keys::table
            .count()
            .get_result(&mut db.store.conn().unwrap())
            .unwrap()
    };
    assert!(
        keys as usize >= records.len(),
        "{keys} keys for {} persons",
        records.len()
    );
    // And an incremental run after it (the keys of nobody new: nothing to write, nothing fails).
    let again = run(&db.store, Mode::Incremental, &Settings::default()).unwrap();
    assert_eq!(again.relinked, 0);
}
