//! `units.csv` and `orders.csv`: every closed unit with its verdict and every order's
//! consumption, so that anyone can check the figures (`;`, UTF-8 with BOM, amounts in euros
//! with a decimal comma).

use crate::orders::OrderConsumption;
use crate::units::Unit;
use cep_domain::ClosureKind;
use std::io::Write;
use std::path::Path;

/// Euros with a decimal comma, from cents: `123456` → `1234,56`.
pub fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{},{:02}", c / 100, c % 100)
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("csv.part");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all("\u{feff}".as_bytes())?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Writes `units.csv`: one row per effectively closed unit at the cut-off.
pub fn write_units(path: &Path, units: &[Unit]) -> std::io::Result<()> {
    let mut s = String::from(
        "numero_dossier;lot;uo;order_reference;reference_bc;date_engagement;date_cloture_effective;cloture;billable;reason;all_reasons;concurrent_cep;numero_decompte\n",
    );
    for u in units {
        let order = u
            .verdict
            .consumes
            .map(|o| o.to_string())
            .or_else(|| {
                u.reference_bc
                    .as_deref()
                    .and_then(|r| r.parse::<cep_domain::ids::ConsumptionRef>().ok())
                    .map(|c| c.order().to_string())
            })
            .unwrap_or_default();
        let reasons: Vec<&str> = u.verdict.reasons.iter().map(|r| r.code()).collect();
        s.push_str(&format!(
            "{};{};{};{};{};{};{};{};{};{};{};{};{}\n",
            u.numero_dossier,
            u.lot,
            u.uo.column_code(),
            order,
            u.reference_bc.as_deref().unwrap_or(""),
            u.engagement,
            u.closure.date,
            match u.closure.kind {
                ClosureKind::Voluntary => "volontaire",
                ClosureKind::Abandonment => "abandon",
            },
            if u.verdict.billable() { "O" } else { "N" },
            reasons.first().copied().unwrap_or(""),
            reasons.join("|"),
            if u.concurrent { "O" } else { "N" },
            u.numero_decompte.as_deref().unwrap_or(""),
        ));
    }
    write(path, &s)
}

/// Writes `orders.csv`: one row per purchase order.
pub fn write_orders(path: &Path, orders: &[OrderConsumption]) -> std::io::Result<()> {
    let mut s = String::from(
        "order_reference;lot;uo;quantite;billable;remaining;prix_unitaire_ht;amount_ht;alert;projected_exhaustion\n",
    );
    for o in orders {
        s.push_str(&format!(
            "{};{};{};{};{};{};{};{};{};{}\n",
            o.reference,
            o.lot,
            o.uo,
            o.quantity,
            o.consumed,
            o.remaining,
            euros(o.unit_price_ht_cents),
            euros(o.value_consumed_ht_cents),
            o.alert.map(|a| format!("{a} %")).unwrap_or_default(),
            o.projected_exhaustion
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ));
    }
    write(path, &s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn euros_with_a_decimal_comma() {
        assert_eq!(super::euros(123_456), "1234,56");
        assert_eq!(super::euros(5), "0,05");
        assert_eq!(super::euros(-1_999), "-19,99");
    }
}
