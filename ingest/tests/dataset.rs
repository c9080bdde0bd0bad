//! A generated multi-month dataset ingests with exactly the injected anomalies and no others
//! (`truth/anomalies.csv` of `cep synth`), on both backends.

use cep_domain::{Lot, YearMonth};
use cep_ingest::buyer::{ImportKind, import};
use cep_ingest::{Channel, Ingestor, Submission};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

type Key = (String, u64, String, String);

#[test]
fn a_generated_dataset_ingests_with_exactly_the_injected_anomalies() {
    let data = tempfile::tempdir().unwrap();
    let mut config = cep_synth::SynthConfig::new(11, YearMonth::new(2025, 1).unwrap(), 3, 0.01);
    config.anomaly_rate = 0.01;
    cep_synth::generate(&config, data.path()).unwrap();
    let mut expected: BTreeMap<Key, usize> = BTreeMap::new();
    let truth = std::fs::read_to_string(data.path().join("truth/anomalies.csv")).unwrap();
    for line in truth.lines().skip(1) {
        let f: Vec<&str> = line.split(';').collect();
        let file = f[0].rsplit('/').next().unwrap().to_owned();
        *expected
            .entry((
                file,
                f[1].parse().unwrap_or(0),
                f[2].to_owned(),
                f[3].to_owned(),
            ))
            .or_default() += 1;
    }
    assert!(
        expected.len() > 50,
        "the dataset carries injected anomalies"
    );

    cep_store::testing::each_backend(|db| {
        let work = tempfile::tempdir().unwrap();
        import(
            &db.store,
            ImportKind::Operators,
            &data.path().join("buyer/operators.csv"),
        )
        .unwrap();
        import(
            &db.store,
            ImportKind::PurchaseOrders,
            &data.path().join("buyer/purchase-orders.csv"),
        )
        .unwrap();
        let ingestor = Ingestor::new(db.store.clone(), work.path());
        let mut inbox = vec![];
        files(&data.path().join("inbox"), &mut inbox);
        let mut inbox: Vec<(Lot, PathBuf)> = inbox
            .into_iter()
            .map(|p| {
                let lot = p.parent().unwrap().file_name().unwrap().to_str().unwrap()[1..]
                    .parse()
                    .unwrap();
                (lot, p)
            })
            .collect();
        inbox.sort_by(|a, b| (a.0, a.1.file_name()).cmp(&(b.0, b.1.file_name())));
        let mut got: BTreeMap<Key, usize> = BTreeMap::new();
        let mut lines = 0;
        for (lot, path) in &inbox {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let sub = Submission {
                file_name: name.clone(),
                lot: *lot,
                channel: Channel::Cli,
                received_at: None,
                json_kind: None,
            };
            let r = ingestor.ingest_file(path, &sub).unwrap();
            lines += r.lines;
            for a in r.anomalies {
                // File-level entries: the truth puts an unknown-column warning on the header.
                let line = a.line.unwrap_or(0);
                *got.entry((
                    name.clone(),
                    line,
                    a.dossier.unwrap_or_default(),
                    a.code.as_str().to_owned(),
                ))
                .or_default() += 1;
            }
        }
        assert!(lines > 1000, "{lines} lines");
        let missing: Vec<_> = expected
            .iter()
            .filter(|(k, n)| got.get(*k) != Some(n))
            .collect();
        let extra: Vec<_> = got
            .iter()
            .filter(|(k, n)| expected.get(*k) != Some(n))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing: {missing:#?}\nextra: {extra:#?}"
        );
    });
}
