//! `cep order` on the binary: amend and close keep history and go through the import's
//! checks; errors are in English with a non-zero exit.

use std::process::Output;

mod common;
use common::cep;

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn amend_and_close_an_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let csv = tmp.path().join("orders.csv");
    std::fs::write(
        &csv,
        "reference;date_notification;quantite;prix_unitaire_ht;taux_tva;date_debut;date_fin\n\
         2025-Lot08-UO01-01;2024-12-15;100;333.33;0.055;2025-01-01;2025-12-31\n\
         2025-Lot08-UO01-02;2025-06-01;50;180.00;0.20;2026-01-01;2026-06-30\n",
    )
    .unwrap();
    stdout(&cep(
        &data,
        &["import", "purchase-orders", csv.to_str().unwrap()],
    ));
    let out = stdout(&cep(
        &data,
        &["order", "amend", "2025-Lot08-UO01-01", "--quantity", "120"],
    ));
    assert!(out.contains("amended (quantity 120"), "{out}");
    let list = stdout(&cep(&data, &["order", "list"]));
    assert!(
        list.contains("2025-Lot08-UO01-01;08;01;120;333.33;550;2025-01-01;2025-12-31"),
        "price and a 5.5 % VAT rate survive the amendment: {list}"
    );
    // Extending the first order into the second one's period is accepted (the current order of
    // a month is the latest notified, indicators-v1), with a warning…
    let out = stdout(&cep(
        &data,
        &[
            "order",
            "amend",
            "2025-Lot08-UO01-01",
            "--date-fin",
            "2026-03-31",
        ],
    ));
    assert!(
        out.contains("amended") && out.contains("warning") && out.contains("overlap"),
        "{out}"
    );
    // …and closing it earlier removes the overlap.
    let out = stdout(&cep(
        &data,
        &["order", "close", "2025-Lot08-UO01-01", "--on", "2025-09-30"],
    ));
    assert!(out.contains("to 2025-09-30"), "{out}");
    let list = stdout(&cep(&data, &["order", "list"]));
    assert!(list.contains("2025-Lot08-UO01-01;08;01;120;333.33;550;2025-01-01;2025-09-30"));
    // Errors.
    let o = cep(&data, &["order", "close", "2025-Lot08-UO01-09"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no purchase order 2025-Lot08-UO01-09"));
    let o = cep(&data, &["order", "amend", "2025-Lot08-UO01-01"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing to amend"));
    let o = cep(
        &data,
        &["order", "close", "2025-Lot08-UO01-02", "--on", "2025-12-31"],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot end on 2025-12-31"));
}
