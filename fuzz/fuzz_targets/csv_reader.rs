//! Any bytes through the feed reader: encoding sniffing, the CSV reader, the header and the
//! DOSSIERS line checks (no store). Nothing may panic; physical line numbers only grow; every
//! read consumes input, so reading ends.
#![no_main]

use cep_domain::Lot;
use cep_ingest::FeedKind;
use cep_ingest::anomaly::LineAnomalies;
use cep_ingest::csv::{CsvReader, Record};
use cep_ingest::decode::{Sniffed, sniff};
use cep_ingest::dossier::{LineContext, OperatorRegistry, check_line};
use cep_ingest::source::{Item, csv_items, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(Sniffed::Readable { encoding, bom }) = sniff(data) else {
        return;
    };
    // The bare reader: line numbers strictly increase.
    let mut reader = CsvReader::new(data).with_max_record(4096);
    let mut rec = Record::default();
    let mut last = 0;
    while let Some(_) = reader.read(&mut rec).expect("in-memory reads do not fail") {
        assert!(rec.line > last, "line {} after {last}", rec.line);
        last = rec.line;
    }
    // The whole line path of a DOSSIERS file.
    let mut operators = OperatorRegistry::default();
    let lot = Lot::parse("08").unwrap();
    operators.add(lot, "A7".into(), chrono::NaiveDate::from_ymd_opt(2019, 12, 1).unwrap(), None);
    let ctx = LineContext {
        lot,
        received_at: "2025-03-12T08:00:00Z".parse().unwrap(),
        operators: &operators,
    };
    let mut reader = CsvReader::new(data).with_max_record(4096);
    let mut head = Record::default();
    let Ok(Some(Ok(()))) = reader.read(&mut head) else {
        return;
    };
    let cols = cep_ingest::pipeline::kind_columns(FeedKind::Dossiers);
    let (Some(map), _) = header(&head, encoding, bom, cols) else {
        return;
    };
    for item in csv_items(&mut reader, &map, encoding) {
        if let Ok(Item::Record { line, values, .. }) = item {
            let mut an = LineAnomalies::new(line);
            let fiche = check_line(values, &ctx, &mut an);
            assert_eq!(fiche.is_some(), !an.has_blocking());
        }
    }
});
