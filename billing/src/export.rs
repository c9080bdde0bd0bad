//! `units.csv` and `orders.csv`: every closed unit with its verdict and every order's
//! consumption, so that anyone can check the figures (`;`, UTF-8 with BOM, amounts in euros
//! with a decimal comma).

use crate::orders::OrderConsumption;
use crate::statement::Statement;
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

/// Writes `not_billable.csv`: units not billable counted by lot, quarter of closure and first
/// reason, for an analyst's review.
pub fn write_not_billable(path: &Path, units: &[Unit]) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<(String, String, &'static str), usize> =
        std::collections::BTreeMap::new();
    for u in units {
        if let Some(r) = u.verdict.reason() {
            let q = cep_domain::YearMonth::of(u.closure.date)
                .quarter()
                .to_string();
            *counts.entry((u.lot.to_string(), q, r.code())).or_default() += 1;
        }
    }
    let mut s = String::from("lot;trimestre;reason;units\n");
    for ((lot, q, r), n) in counts {
        s.push_str(&format!("{lot};{q};{r};{n}\n"));
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

/// Writes each statement as `DIR/{number}.csv` (a header block, one line per unit, the
/// totals) and all of them as `DIR/statements.json` (amounts in integer cents).
pub fn write_statements(dir: &Path, statements: &[Statement]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut json = Vec::new();
    for st in statements {
        let mut s = format!(
            "etat_de_consommation;{}\nbon_de_commande;{}\ntrimestre;{}\ndate_arrete_utc;{}\n\nnumero_dossier;reference_bc;uo;date_engagement;date_cloture\n",
            st.number,
            st.order_reference,
            st.quarter,
            st.cutoff.format("%Y-%m-%dT%H:%M:%S")
        );
        for l in &st.lines {
            s.push_str(&format!(
                "{};{};{};{};{}\n",
                l.numero_dossier,
                l.reference_bc.as_deref().unwrap_or(""),
                l.uo.column_code(),
                l.date_engagement,
                l.date_cloture
            ));
        }
        s.push_str(&format!(
            "\nquantite;{}\nprix_unitaire_ht;{}\nmontant_ht;{}\ntva ({});{}\nmontant_ttc;{}\nquantite_commandee;{}\nconsommation_cumulee;{}\nsolde;{}\n",
            st.lines.len(),
            euros(st.unit_price_ht_cents),
            euros(st.amount_ht_cents),
            rate(st.vat_rate_bp),
            euros(st.vat_cents),
            euros(st.amount_ttc_cents),
            st.ordered,
            st.consumed_to_date,
            st.remaining
        ));
        write(&dir.join(format!("{}.csv", st.number)), &s)?;
        json.push(statement_json(st));
    }
    let text = serde_json::to_string_pretty(&json).expect("statements serialise") + "\n";
    let tmp = dir.join("statements.json.part");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, dir.join("statements.json"))
}

/// Writes `reconciliation.csv`: one row per finding.
pub fn write_reconciliation(
    path: &Path,
    findings: &[crate::reconcile::Discrepancy],
) -> std::io::Result<()> {
    let mut s = String::from("numero_dossier;numero_decompte;constat;detail\n");
    for d in findings {
        s.push_str(&format!(
            "{};{};{};{}\n",
            d.numero_dossier,
            d.numero_decompte.as_deref().unwrap_or(""),
            d.finding.code(),
            d.detail
        ));
    }
    write(path, &s)
}

/// Writes `bonus.csv`: each lot's quality bonus for the half-year with its inputs.
pub fn write_bonuses(path: &Path, bonuses: &[crate::bonus::Bonus]) -> std::io::Result<()> {
    let mut s = String::from(
        "lot;semestre;bareme;reponses;satisfaits;taux;borne_wilson;palier;base_ht;prime_ht;remarque\n",
    );
    let ratio = |x: Option<f64>| {
        x.map(|v| format!("{v:.6}").replace('.', ","))
            .unwrap_or_default()
    };
    for b in bonuses {
        s.push_str(&format!(
            "{};{};{};{};{};{};{};{};{};{};{}\n",
            b.lot,
            b.half,
            b.scheme_version,
            b.answers,
            b.satisfied,
            ratio(b.rate),
            ratio(b.wilson_lower),
            b.tier.map(|t| rate(t.bonus_bp as i32)).unwrap_or_default(),
            euros(b.base_ht_cents),
            euros(b.bonus_ht_cents),
            b.note
        ));
    }
    write(path, &s)
}

/// A statement as JSON (amounts in integer cents), as written and as stored when issued.
pub fn statement_json(st: &Statement) -> serde_json::Value {
    serde_json::json!({
        "number": st.number,
        "order_reference": st.order_reference,
        "quarter": st.quarter.to_string(),
        "cutoff_utc": st.cutoff.format("%Y-%m-%dT%H:%M:%S").to_string(),
        "lines": st.lines.iter().map(|l| serde_json::json!({
            "numero_dossier": l.numero_dossier,
            "reference_bc": l.reference_bc,
            "uo": l.uo.column_code(),
            "date_engagement": l.date_engagement.to_string(),
            "date_cloture": l.date_cloture.to_string(),
        })).collect::<Vec<_>>(),
        "quantity": st.lines.len(),
        "unit_price_ht_cents": st.unit_price_ht_cents,
        "amount_ht_cents": st.amount_ht_cents,
        "vat_rate_bp": st.vat_rate_bp,
        "vat_cents": st.vat_cents,
        "amount_ttc_cents": st.amount_ttc_cents,
        "ordered": st.ordered,
        "consumed_to_date": st.consumed_to_date,
        "remaining": st.remaining,
    })
}

/// A VAT rate from basis points: `2000` → `20,00 %`.
fn rate(bp: i32) -> String {
    format!("{},{:02} %", bp / 100, bp % 100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn not_billable_counts_by_lot_quarter_and_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nb.csv");
        let units = vec![
            crate::fixtures::unit(1, "2025-02-01", false, false),
            crate::fixtures::unit(2, "2025-03-01", false, false),
            crate::fixtures::unit(3, "2025-04-01", false, true),
            crate::fixtures::unit(4, "2025-04-01", true, false),
        ];
        super::write_not_billable(&p, &units).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "\u{feff}lot;trimestre;reason;units\n08;2025-T1;LIVRABLE_MISSING;2\n08;2025-T2;BC_EXHAUSTED;1\n"
        );
    }

    #[test]
    fn euros_with_a_decimal_comma() {
        assert_eq!(super::rate(2000), "20,00 %");
        assert_eq!(super::rate(550), "5,50 %");
        assert_eq!(super::euros(123_456), "1234,56");
        assert_eq!(super::euros(5), "0,05");
        assert_eq!(super::euros(-1_999), "-19,99");
    }
}
