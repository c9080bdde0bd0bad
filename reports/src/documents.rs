//! The documents: what each one shows, as data (French text, numbers formatted) and charts,
//! handed to its template. One function per document type.

use crate::context::Context;
use crate::{Document, DocumentKind, charts, format};
use cep_domain::ids::PurchaseOrderRef;
use cep_domain::indicator::{CATALOGUE, Frequency, RDV_LIMIT_WORKING_DAYS, rdv_within_limit};
use cep_domain::mediation::{CaseRef, ComplaintRef, escalates};
use cep_domain::{HalfYear, Lot, WorkUnit, YearMonth};
use cep_store::models::indicators::IndicatorValueRow;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A table for the templates: column titles, rows of text, alignment per column (`l`/`r`).
fn table(columns: &[&str], align: &str, rows: Vec<Vec<String>>) -> Value {
    json!({"columns": columns, "align": align, "rows": rows})
}

/// The codes shown in an indicator table of one frequency: every one but those with a row per
/// category (2.3, 2.4 and 8.2 have their own tables), in catalogue order.
fn table_codes(frequency: Frequency) -> Vec<&'static str> {
    CATALOGUE
        .iter()
        .filter(|i| i.frequency == frequency && !i.categories)
        .map(|i| i.code)
        .collect()
}

/// The codes of a table with their labels, for the legend under it.
fn legend(codes: &[&str]) -> Value {
    json!(
        codes
            .iter()
            .map(|c| json!({"code": c, "label": label(c)}))
            .collect::<Vec<_>>()
    )
}

fn label(code: &str) -> &'static str {
    cep_domain::indicator::Indicator::of(code).map_or("", |i| i.label)
}

/// A value as the committee reads it: a rate as a percentage, a mean duration in days, a count
/// as an integer, 7.x per FTE; `—` when there is none.
pub fn shown(code: &str, v: Option<&IndicatorValueRow>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    match code {
        "6.5" | "6.6" | "6.7" => format::integer(v.numerator),
        "6.2" | "6.3" | "6.4" => v
            .value
            .map(|x| format!("{}\u{A0}j", format::decimal(x, 1)))
            .unwrap_or_else(|| "—".into()),
        "7.1" | "7.2" | "7.3" | "7.4" => v
            .value
            .map(|x| format::decimal(x, 1))
            .unwrap_or_else(|| "—".into()),
        _ => match v.value {
            // An order consumed beyond its quantity (1.x, 4.x, 5.x over 100 %) is marked.
            Some(x) if x > 1.0 && over_order(code) => format!("{}{OVER}", format::percent(x)),
            Some(x) => format::percent(x),
            None => "—".into(),
        },
    }
}

/// The mark of a rate over 100 % of an order, explained under the table.
const OVER: &str = "\u{A0}*";

/// Rates of a purchase order's quantity (1.x engagements, 4.x and 5.x closures).
fn over_order(code: &str) -> bool {
    ["1.", "4.", "5."].iter().any(|p| code.starts_with(p))
}

/// The legend of a table's codes, with the over-100 % mark explained when `table` uses it.
fn legend_of(codes: &[&str], table: &Value) -> Value {
    let mut items = legend(codes);
    if table.to_string().contains('*')
        && let Some(a) = items.as_array_mut()
    {
        a.push(json!({"code": "*", "label": "au-delà de 100 % : plus d'unités que la quantité du bon de commande"}));
    }
    items
}

/// The group an indicator is read for: the lot, or its region for 2.x and 3 (none for lot 19).
fn group(code: &str, lot: Lot) -> Option<String> {
    let by_region = cep_domain::indicator::Indicator::of(code).is_some_and(|i| i.by_region);
    if by_region && lot.is_backup() {
        None
    } else {
        Some(lot.to_string())
    }
}

fn not_billable_label(code: &str) -> &'static str {
    match code {
        "INELIGIBLE" => "statut non éligible",
        "ABANDONMENT" => "abandon (non facturable)",
        "LIVRABLE_MISSING" => "livrable absent",
        "BC_UNKNOWN" => "bon de commande inconnu",
        "BC_MISMATCH" => "bon d'un autre lot ou d'une autre UO",
        "BC_DUPLICATE" => "référence de consommation en double",
        "BC_EXHAUSTED" => "bon de commande épuisé",
        "CONCURRENT_CEP_HELD" => "CEP concurrent, en attente de revue",
        _ => "",
    }
}

/// The header of every document: titles, the data cut-off, the indicator runs it shows (each
/// period's run at this cut-off, by number), and whether the cut-off has any data at all.
fn header(
    ctx: &Context,
    title: String,
    subtitle: String,
    header: String,
    periods: &[String],
) -> Value {
    let runs: Vec<String> = periods
        .iter()
        .filter_map(|p| Some(format!("{} ({p})", ctx.run(p)?.id)))
        .collect();
    json!({
        "title": title,
        "subtitle": subtitle,
        "header": header,
        "cutoff": format::cutoff(ctx.cutoff),
        "run": (!runs.is_empty()).then(|| format!(
            "calcul{} d'indicateurs n°\u{A0}{}",
            if runs.len() > 1 { "s" } else { "" },
            runs.join(", ")
        )),
        "no_data": ctx.asof.dossiers.is_empty(),
    })
}

/// The periods a document of `year` shows: its twelve months and two halves.
fn year_periods(year: i32) -> Vec<String> {
    (1..=12)
        .filter_map(|m| YearMonth::new(year, m))
        .map(|m| m.to_string())
        .chain(
            (1..=2)
                .filter_map(|h| HalfYear::new(year, h))
                .map(|h| h.to_string()),
        )
        .collect()
}

/// Dossiers of `lot` engaged in each month, by work unit.
fn engagements(ctx: &Context, lot: Option<Lot>, months: &[YearMonth]) -> Vec<(String, Vec<u64>)> {
    let mut by_uo: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for uo in [WorkUnit::Uo0, WorkUnit::Uo1, WorkUnit::Uo21, WorkUnit::Uo22] {
        by_uo.insert(uo.column_code(), vec![0; months.len()]);
    }
    for d in &ctx.asof.dossiers {
        if lot.is_some_and(|l| d.lot != l) {
            continue;
        }
        let m = YearMonth::of(d.engagement());
        if let (Some(i), Some(v)) = (
            months.iter().position(|x| *x == m),
            by_uo.get_mut(d.uo.column_code()),
        ) {
            v[i] += 1;
        }
    }
    by_uo
        .into_iter()
        .map(|(code, v)| {
            let name = WorkUnit::from_column_code(code)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| code.to_owned());
            (name, v)
        })
        .collect()
}

fn months_back(month: YearMonth, n: i32) -> Vec<YearMonth> {
    (0..n).rev().map(|k| month.plus(-k)).collect()
}

/// The months of a chart of activity: the `n` months to `month`, without those before the first
/// month any dossier was engaged in (before the contract, nothing is not zero).
fn activity_months(ctx: &Context, month: YearMonth, n: i32) -> Vec<YearMonth> {
    let first = ctx
        .asof
        .dossiers
        .iter()
        .map(|d| YearMonth::of(d.engagement()))
        .min();
    let months: Vec<YearMonth> = months_back(month, n)
        .into_iter()
        .filter(|m| first.is_none_or(|f| *m >= f))
        .collect();
    if months.is_empty() {
        vec![month]
    } else {
        months
    }
}

/// Order consumption of a lot at the cut-off: the table rows and one chart per order used.
/// Each order's consumption measured on `as_of` (the units closed by then, with the verdicts
/// of the cut-off): the basis of the monthly document is its month's end, as for indicators
/// 4.x (issue 22).
fn orders_section(
    ctx: &Context,
    lot: Lot,
    as_of: chrono::NaiveDate,
    charts_out: &mut BTreeMap<String, String>,
) -> Result<(Value, Vec<Value>), charts::ChartError> {
    let today = as_of;
    let units: Vec<cep_billing::Unit> = ctx
        .units
        .iter()
        .filter(|u| u.closure.date <= as_of)
        .cloned()
        .collect();
    let consumption = cep_billing::consumption(&ctx.orders, &units, today);
    let mut rows = Vec::new();
    let mut figures = Vec::new();
    for o in consumption.iter().filter(|o| o.lot == lot.to_string()) {
        let order = ctx.orders.iter().find(|x| x.reference == o.reference);
        let share = if o.quantity > 0 {
            f64::from(o.consumed) / f64::from(o.quantity)
        } else {
            0.0
        };
        rows.push(vec![
            o.reference.clone(),
            o.uo.clone(),
            format::integer(i64::from(o.quantity)),
            format::integer(i64::from(o.consumed)),
            format::integer(i64::from(o.remaining)),
            format::percent(share),
            o.alert.map(|a| format!("{a}\u{A0}%")).unwrap_or_default(),
            match (o.projected_exhaustion, order) {
                (Some(p), Some(x)) if p > x.date_fin => "après la fin du bon".into(),
                (Some(p), _) => format::date(p),
                (None, _) => String::new(),
            },
        ]);
        if let Some(order) = order
            && o.consumed > 0
            && figures.len() < 4
        {
            let mut dates: Vec<chrono::NaiveDate> = units
                .iter()
                .filter(|u| u.verdict.consumes.map(|r| r.to_string()) == Some(o.reference.clone()))
                .map(|u| u.closure.date)
                .collect();
            dates.sort();
            let mut cumulative: Vec<(chrono::NaiveDate, u32)> = Vec::new();
            for (i, d) in dates.iter().enumerate() {
                match cumulative.last_mut() {
                    Some((last, n)) if last == d => *n = i as u32 + 1,
                    _ => cumulative.push((*d, i as u32 + 1)),
                }
            }
            let name = format!("bc{}", figures.len());
            charts_out.insert(
                name.clone(),
                charts::consumption(
                    order.date_debut,
                    order.date_fin,
                    today,
                    o.quantity,
                    &cumulative,
                    o.projected_exhaustion,
                )?,
            );
            figures.push(json!({"name": name, "caption": format!("Consommation du bon {} au regard de sa quantité", o.reference)}));
        }
    }
    Ok((
        table(
            &[
                "Bon de commande",
                "UO",
                "Quantité",
                "Consommées",
                "Reste",
                "Part",
                "Alerte",
                "Épuisement projeté",
            ],
            "llrrrrrl",
            rows,
        ),
        figures,
    ))
}

/// The date a processing report is about: the date in the file's name
/// (`CEP_L08_DOSSIERS_20250328_01.csv`), else its reception day.
fn file_date(r: &cep_store::models::ingest::ProcessingReportRow) -> chrono::NaiveDate {
    r.file_name
        .split(['_', '.'])
        .find(|t| t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y%m%d").ok())
        .unwrap_or_else(|| cep_domain::paris::date_of(r.created_at))
}

/// The monthly follow-up report of one lot (*comité de suivi mensuel*).
pub fn monthly(ctx: &Context, lot: Lot, month: YearMonth) -> Result<Document, charts::ChartError> {
    let period = month.to_string();
    let l = lot.to_string();
    let operator = ctx
        .operator(&l, month.last_day())
        .map(|o| o.nom.clone())
        .unwrap_or_else(|| "titulaire non enregistré".into());
    let mut charts_out = BTreeMap::new();

    // Activity of the month.
    let engaged = ctx
        .asof
        .dossiers
        .iter()
        .filter(|d| d.lot == lot && month.contains(d.engagement()))
        .count();
    let closed: Vec<&cep_billing::Unit> = ctx
        .units
        .iter()
        .filter(|u| u.lot == lot && month.contains(u.closure.date))
        .collect();
    let billable = closed.iter().filter(|u| u.verdict.billable()).count();

    let months = activity_months(ctx, month, 13);
    charts_out.insert(
        "engagements".into(),
        charts::engagements_by_uo(&months, &engagements(ctx, Some(lot), &months))?,
    );
    let (orders, consumption_charts) = orders_section(ctx, lot, month.last_day(), &mut charts_out)?;

    // Indicators: the month, the two before, the same month a year earlier.
    let periods = [month, month.plus(-1), month.plus(-2), month.plus(-12)];
    let indicators: Vec<Vec<String>> = table_codes(Frequency::Monthly)
        .iter()
        .filter_map(|code| {
            let g = group(code, lot)?;
            let mut row = vec![(*code).to_owned(), label(code).to_owned()];
            row.extend(
                periods
                    .iter()
                    .map(|p| shown(code, ctx.value(&p.to_string(), code, &g, ""))),
            );
            Some(row)
        })
        .collect();
    let titles: Vec<String> = periods.iter().map(|p| format::month_short(*p)).collect();
    let columns = [
        "Code",
        "Indicateur",
        &titles[0],
        &titles[1],
        &titles[2],
        &titles[3],
    ];

    // Non-billable units closed in the month and since the start of the year, by reason.
    let mut reasons: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for u in ctx.units.iter().filter(|u| u.lot == lot) {
        let Some(r) = u.verdict.reason() else {
            continue;
        };
        let in_year = chrono::Datelike::year(&u.closure.date) == month.year()
            && u.closure.date <= month.last_day();
        let e = reasons.entry(r.code()).or_default();
        e.0 += i64::from(month.contains(u.closure.date));
        e.1 += i64::from(in_year);
    }
    let not_billable: Vec<Vec<String>> = reasons
        .iter()
        .filter(|(_, (m, y))| *m > 0 || *y > 0)
        .map(|(code, (m, y))| {
            vec![
                (*code).to_owned(),
                not_billable_label(code).to_owned(),
                format::integer(*m),
                format::integer(*y),
            ]
        })
        .collect();

    // Anomalies of the files received in the month.
    let mut anomalies: BTreeMap<(String, String), i64> = BTreeMap::new();
    let (mut files, mut lines, mut quarantined) = (0i64, 0i64, 0i64);
    for r in ctx
        .reports
        .iter()
        .filter(|r| r.lot.as_deref() == Some(l.as_str()) && month.contains(file_date(r)))
    {
        files += 1;
        let report: Value = serde_json::from_str(&r.report_json).unwrap_or(Value::Null);
        lines += report["lines"].as_i64().unwrap_or(0);
        quarantined += report["quarantined"].as_i64().unwrap_or(0);
        for a in report["anomalies"].as_array().into_iter().flatten() {
            let key = (
                a["code"].as_str().unwrap_or("").to_owned(),
                if a["severity"] == "blocking" {
                    "bloquante"
                } else {
                    "avertissement"
                }
                .to_owned(),
            );
            *anomalies.entry(key).or_default() += 1;
        }
    }
    let anomaly_rows: Vec<Vec<String>> = anomalies
        .iter()
        .map(|((code, sev), n)| vec![code.clone(), sev.clone(), format::integer(*n)])
        .collect();

    // Complaints received in the month, and the médiateur's cases.
    let complaints: Vec<_> = ctx
        .complaints
        .iter()
        .filter(|c| c.lot == l && month.contains(c.date_reception))
        .collect();
    let today = ctx.asof.today();
    let case_of = |c: &cep_store::models::indicators::ComplaintState| {
        let complaint = ComplaintRef {
            lot,
            numero_dossier: c.numero_dossier.as_deref(),
            identifiant_beneficiaire: &c.identifiant_beneficiaire,
            received: c.date_reception,
        };
        ctx.cases.iter().find(|k| {
            Lot::parse(&k.lot).is_ok_and(|case_lot| {
                let case = CaseRef {
                    lot: case_lot,
                    numero_dossier: k.numero_dossier.as_deref(),
                    identifiant_beneficiaire: k.identifiant_beneficiaire.as_deref(),
                    opened: cep_domain::paris::date_of(k.opened_at),
                };
                escalates(&case, &complaint, today)
            })
        })
    };
    let complaint_rows: Vec<Vec<String>> = complaints
        .iter()
        .map(|c| {
            let case = case_of(c);
            vec![
                c.identifiant_reclamation.clone(),
                format::date(c.date_reception),
                case.map(|k| format::date(cep_domain::paris::date_of(k.opened_at)))
                    .unwrap_or_else(|| "—".into()),
                case.map(|k| {
                    let days =
                        (cep_domain::paris::date_of(k.opened_at) - c.date_reception).num_days();
                    format!("{}\u{A0}j", format::integer(days))
                })
                .unwrap_or_default(),
            ]
        })
        .collect();
    let cases_opened = ctx
        .cases
        .iter()
        .filter(|k| k.lot == l && month.contains(cep_domain::paris::date_of(k.opened_at)))
        .count();
    let cases_open = ctx
        .cases
        .iter()
        .filter(|k| k.lot == l && k.closed_at.is_none_or(|t| t > ctx.cutoff))
        .count();

    let mut data = header(
        ctx,
        format!("Comité de suivi mensuel — lot {l}"),
        format!("{} · {operator} · {}", lot.label(), format::month(month)),
        format!("Lot {l} — {}", format::month(month)),
        &[month, month.plus(-1), month.plus(-2), month.plus(-12)].map(|m| m.to_string()),
    );
    data["month"] = json!(format::month(month));
    data["basis"] = json!(format!(
        "Situation au {} (fin du mois) d'après les données reçues au {} : activité, bons de commande, graphiques et indicateurs sont tous mesurés à cette date.",
        format::date(month.last_day()),
        format::cutoff(ctx.cutoff)
    ));
    data["activity"] = json!({
        "engaged": format::integer(engaged as i64),
        "closed": format::integer(closed.len() as i64),
        "billable": format::integer(billable as i64),
    });
    data["orders"] = orders;
    data["consumption_charts"] = json!(consumption_charts);
    data["indicators"] = table(&columns, "llrrrr", indicators);
    data["not_billable"] = table(
        &["Motif", "Libellé", "Dans le mois", "Depuis janvier"],
        "llrr",
        not_billable,
    );
    data["files"] = json!({
        "files": format::integer(files), "lines": format::integer(lines),
        "quarantined": format::integer(quarantined),
    });
    data["anomalies"] = table(&["Code", "Gravité", "Lignes"], "llr", anomaly_rows);
    data["complaints"] = table(
        &["Réclamation", "Reçue le", "Saisine le", "Délai"],
        "llll",
        complaint_rows,
    );
    data["mediation"] = json!({
        "opened": format::integer(cases_opened as i64),
        "open": format::integer(cases_open as i64),
    });
    Ok(Document {
        kind: DocumentKind::MonthlyFollowUp,
        lot: Some(l.clone()),
        period,
        file_name: format!("comite-suivi_L{l}_{month}.pdf"),
        data,
        charts: charts_out,
    })
}

/// The monthly national summary: the 19 lots side by side.
pub fn national(ctx: &Context, month: YearMonth) -> Result<Document, charts::ChartError> {
    let period = month.to_string();
    let codes = ["1.2", "4.2", "6.1", "6.2", "6.8"];
    let mut rows = Vec::new();
    let mut compared = Vec::new();
    for lot in Lot::all() {
        let l = lot.to_string();
        let engaged = ctx
            .asof
            .dossiers
            .iter()
            .filter(|d| d.lot == lot && month.contains(d.engagement()))
            .count();
        let billable = ctx
            .units
            .iter()
            .filter(|u| u.lot == lot && month.contains(u.closure.date) && u.verdict.billable())
            .count();
        let mut row = vec![
            l.clone(),
            format::integer(engaged as i64),
            format::integer(billable as i64),
        ];
        row.extend(
            codes
                .iter()
                .map(|c| shown(c, ctx.value(&period, c, &l, ""))),
        );
        rows.push(row);
        if let Some(v) = ctx.value(&period, "4.2", &l, "").and_then(|v| v.value) {
            compared.push((l, v, None));
        }
    }
    let mut national_row = vec![
        "National".to_owned(),
        format::integer(
            ctx.asof
                .dossiers
                .iter()
                .filter(|d| month.contains(d.engagement()))
                .count() as i64,
        ),
        format::integer(
            ctx.units
                .iter()
                .filter(|u| month.contains(u.closure.date) && u.verdict.billable())
                .count() as i64,
        ),
    ];
    national_row.extend(
        codes
            .iter()
            .map(|c| shown(c, ctx.value(&period, c, "national", ""))),
    );
    rows.push(national_row);
    let mut charts_out = BTreeMap::new();
    let months = activity_months(ctx, month, 13);
    charts_out.insert(
        "engagements".into(),
        charts::engagements_by_uo(&months, &engagements(ctx, None, &months))?,
    );
    charts_out.insert(
        "lots".into(),
        charts::lots_compared(
            "Clôtures facturables UO1 au regard du bon en cours (4.2)",
            &compared,
        )?,
    );
    let mut data = header(
        ctx,
        "Synthèse nationale mensuelle".into(),
        format!("Les 19 lots du CEP · {}", format::month(month)),
        format!("National — {}", format::month(month)),
        &[month.to_string()],
    );
    data["month"] = json!(format::month(month));
    data["lots"] = table(
        &[
            "Lot",
            "Engagés",
            "Clôtures fact.",
            "1.2",
            "4.2",
            "6.1",
            "6.2",
            "6.8",
        ],
        "lrrrrrrr",
        rows,
    );
    data["legend"] = legend_of(&codes, &data["lots"]);
    Ok(Document {
        kind: DocumentKind::NationalSummary,
        lot: None,
        period,
        file_name: format!("synthese-nationale_{month}.pdf"),
        data,
        charts: charts_out,
    })
}

/// Wilson interval at 95 % for k of n (indicators point 14); `n` is a stored denominator.
fn wilson(k: i64, n: f64) -> Option<(f64, f64)> {
    cep_billing::bonus::wilson_interval(u64::try_from(k).ok()?, n as u64, cep_billing::bonus::Z95)
}

/// The half-yearly quality review of one lot: 7.x and 8.x, and the quality bonus.
pub fn quality(
    ctx: &Context,
    lot: Lot,
    half: HalfYear,
    scheme: &cep_billing::bonus::BonusScheme,
) -> Result<Document, charts::ChartError> {
    let period = half.to_string();
    let l = lot.to_string();
    let rows: Vec<Vec<String>> = table_codes(Frequency::HalfYearly)
        .iter()
        .map(|code| {
            let v = ctx.value(&period, code, &l, "");
            vec![
                (*code).to_owned(),
                label(code).to_owned(),
                v.map(|v| format::integer(v.numerator))
                    .unwrap_or_else(|| "—".into()),
                v.and_then(|v| v.denominator)
                    .map(|d| format::decimal(d, if code.starts_with('7') { 1 } else { 0 }))
                    .unwrap_or_else(|| "—".into()),
                shown(code, v),
                shown(code, ctx.value(&period, code, "national", "")),
            ]
        })
        .collect();
    let services: Vec<Vec<String>> = ctx
        .values_of(&period, &l)
        .into_iter()
        .filter(|v| v.code == "8.2")
        .map(|v| {
            vec![
                v.category.clone(),
                format::integer(v.numerator),
                shown("8.2", Some(v)),
            ]
        })
        .collect();

    // Delays of 8.4, as the view of the cut-off has them: UO1/UO2.1 dossiers of the lot whose
    // first interaction is in the half.
    let delays: Vec<u32> = ctx
        .asof
        .dossiers
        .iter()
        .filter(|d| d.lot == lot && matches!(d.uo, WorkUnit::Uo1 | WorkUnit::Uo21))
        .filter(|d| d.first_interaction.is_some_and(|x| half.contains(x)))
        .filter_map(|d| Some(d.rdv_delay?.max(0) as u32))
        .collect();
    let mut charts_out = BTreeMap::new();
    charts_out.insert(
        "delays".into(),
        charts::delays(&delays, RDV_LIMIT_WORKING_DAYS as u32)?,
    );
    let satisfaction: Vec<charts::LotBar> = Lot::all()
        .filter_map(|x| {
            let v = ctx.value(&period, "8.1", &x.to_string(), "")?;
            let n = v.denominator?;
            Some((x.to_string(), v.value?, wilson(v.numerator, n)))
        })
        .collect();
    charts_out.insert(
        "satisfaction".into(),
        charts::lots_compared(
            "Bénéficiaires satisfaits (8.1), intervalle de confiance à 95 %",
            &satisfaction,
        )?,
    );

    let bonus = cep_billing::bonus::bonuses_at_order_prices(
        scheme,
        half,
        &ctx.answers,
        &ctx.units,
        &ctx.orders,
    )
    .into_iter()
    .find(|b| b.lot == l);
    let bonus = bonus.map(|b| {
        json!({
            "scheme": b.scheme_version,
            "answers": format::integer(b.answers as i64),
            "satisfied": format::integer(b.satisfied as i64),
            "rate": b.rate.map(format::percent).unwrap_or_else(|| "—".into()),
            "wilson": b.wilson_lower.map(format::percent).unwrap_or_else(|| "—".into()),
            "tier": b.tier.map(|t| format!("{} dès {}", format::percent(f64::from(t.bonus_bp) / 10_000.0), format::percent(f64::from(t.min_rate_bp) / 10_000.0))).unwrap_or_else(|| "aucun palier atteint".into()),
            "base": format::euros(b.base_ht_cents),
            "amount": format::euros(b.bonus_ht_cents),
            "note": b.note,
        })
    });
    let operator = ctx
        .operator(&l, half.last_day())
        .map(|o| o.nom.clone())
        .unwrap_or_else(|| "titulaire non enregistré".into());
    let mut data = header(
        ctx,
        format!("Revue qualité semestrielle — lot {l}"),
        format!("{} · {operator} · {}", lot.label(), half_label(half)),
        format!("Lot {l} — {}", half_label(half)),
        &[half.to_string()],
    );
    data["half"] = json!(half_label(half));
    data["indicators"] = table(
        &[
            "Code",
            "Indicateur",
            "Numérateur",
            "Dénominateur",
            "Lot",
            "National",
        ],
        "llrrrr",
        rows,
    );
    data["services"] = table(&["Type de service", "Dossiers", "Part"], "lrr", services);
    data["delays"] = json!({
        "count": format::integer(delays.len() as i64),
        "within": format::integer(delays.iter().filter(|d| rdv_within_limit(i64::from(**d))).count() as i64),
    });
    data["bonus"] = bonus.unwrap_or(Value::Null);
    Ok(Document {
        kind: DocumentKind::QualityReview,
        lot: Some(l.clone()),
        period,
        file_name: format!("revue-qualite_L{l}_{half}.pdf"),
        data,
        charts: charts_out,
    })
}

fn half_label(h: HalfYear) -> String {
    format!(
        "{} semestre {}",
        if h.half() == 1 { "1er" } else { "2d" },
        h.year()
    )
}

/// Statements issued for a lot's orders in `year` (the latest issue of each number).
fn statements_of(ctx: &Context, lot: Option<&str>, year: i32) -> Vec<Value> {
    let mut latest: BTreeMap<&str, &cep_store::models::buyer::StoredStatement> = BTreeMap::new();
    for s in &ctx.statements {
        if s.cutoff > ctx.cutoff {
            continue;
        }
        let e = latest.entry(s.number.as_str()).or_insert(s);
        if s.cutoff > e.cutoff {
            *e = s;
        }
    }
    latest
        .values()
        .filter_map(|s| serde_json::from_str::<Value>(&s.body_json).ok())
        .filter(|b| {
            let reference = b["order_reference"].as_str().unwrap_or("");
            b["quarter"]
                .as_str()
                .is_some_and(|q| q.starts_with(&year.to_string()))
                && lot.is_none_or(|l| {
                    PurchaseOrderRef::find_in(reference).is_some_and(|o| o.lot().to_string() == l)
                })
        })
        .collect()
}

/// The yearly steering-committee file of one lot (*comité de pilotage*).
pub fn steering(ctx: &Context, lot: Lot, year: i32) -> Result<Document, charts::ChartError> {
    let l = lot.to_string();
    let months: Vec<YearMonth> = (1..=12).filter_map(|m| YearMonth::new(year, m)).collect();
    let mut charts_out = BTreeMap::new();
    charts_out.insert(
        "engagements".into(),
        charts::engagements_by_uo(&months, &engagements(ctx, Some(lot), &months))?,
    );
    let codes = ["1.2", "1.3", "4.2", "4.3", "6.1", "6.2", "6.8"];
    let mut columns = vec!["Mois".to_owned()];
    columns.extend(codes.iter().map(|c| (*c).to_owned()));
    let rows: Vec<Vec<String>> = months
        .iter()
        .filter(|m| ctx.run(&m.to_string()).is_some())
        .map(|m| {
            let mut row = vec![format::month(*m)];
            row.extend(
                codes
                    .iter()
                    .map(|c| shown(c, ctx.value(&m.to_string(), c, &l, ""))),
            );
            row
        })
        .collect();
    let halves: Vec<Vec<String>> = table_codes(Frequency::HalfYearly)
        .iter()
        .map(|code| {
            let mut row = vec![(*code).to_owned(), label(code).to_owned()];
            for h in [1, 2] {
                let p = HalfYear::new(year, h)
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                row.push(shown(code, ctx.value(&p, code, &l, "")));
            }
            row
        })
        .collect();
    let statements = statements_of(ctx, Some(&l), year);
    let total: i64 = statements
        .iter()
        .map(|s| s["amount_ttc_cents"].as_i64().unwrap_or(0))
        .sum();
    let statement_rows: Vec<Vec<String>> = statements
        .iter()
        .map(|s| {
            vec![
                s["number"].as_str().unwrap_or("").to_owned(),
                s["quarter"].as_str().unwrap_or("").to_owned(),
                format::integer(s["quantity"].as_i64().unwrap_or(0)),
                format::euros(s["amount_ht_cents"].as_i64().unwrap_or(0)),
                format::euros(s["amount_ttc_cents"].as_i64().unwrap_or(0)),
            ]
        })
        .collect();
    // Progress plan: the monthly indicators that went down against the same month a year
    // earlier, at the last month with a run.
    let last = months
        .iter()
        .rev()
        .find(|m| ctx.run(&m.to_string()).is_some());
    // Progress plan: the monthly indicators that moved the wrong way (each one's good direction
    // is the catalogue's) against the same month a year earlier, at the last month with a run;
    // `None` when no indicator has a value a year earlier to compare with.
    let compared: Option<Vec<Vec<String>>> = last.and_then(|m| {
        let mut any_comparison = false;
        let rows: Vec<Vec<String>> = table_codes(Frequency::Monthly)
            .iter()
            .filter_map(|code| {
                let g = group(code, lot)?;
                let now = ctx.value(&m.to_string(), code, &g, "")?.value?;
                let before = ctx.value(&m.plus(-12).to_string(), code, &g, "")?.value?;
                any_comparison = true;
                let setback = cep_domain::indicator::Indicator::of(code)?.progress(before, now)
                    == Some(false);
                setback.then(|| {
                    vec![
                        (*code).to_owned(),
                        label(code).to_owned(),
                        shown(code, ctx.value(&m.plus(-12).to_string(), code, &g, "")),
                        shown(code, ctx.value(&m.to_string(), code, &g, "")),
                    ]
                })
            })
            .collect();
        any_comparison.then_some(rows)
    });
    let progress = compared.clone().unwrap_or_default();
    let operator = ctx
        .operator(&l, months.last().map(|m| m.last_day()).unwrap_or_default())
        .map(|o| o.nom.clone())
        .unwrap_or_else(|| "titulaire non enregistré".into());
    let mut data = header(
        ctx,
        format!("Comité de pilotage annuel — lot {l}"),
        format!("{} · {operator} · année {year}", lot.label()),
        format!("Lot {l} — {year}"),
        &year_periods(year),
    );
    data["year"] = json!(year);
    data["monthly"] = table(
        &columns.iter().map(String::as_str).collect::<Vec<_>>(),
        "lrrrrrrr",
        rows,
    );
    data["legend"] = legend_of(&codes, &data["monthly"]);
    data["halves"] = table(&["Code", "Indicateur", "S1", "S2"], "llrr", halves);
    data["statements"] = table(
        &["Relevé", "Trimestre", "Unités", "Montant HT", "Montant TTC"],
        "llrrr",
        statement_rows,
    );
    data["billed_ttc"] = json!(format::euros(total));
    data["progress"] = table(
        &["Code", "Indicateur", "Un an avant", "Dernier mois"],
        "llrr",
        progress,
    );
    data["progress_compared"] = json!(compared.is_some());
    Ok(Document {
        kind: DocumentKind::SteeringCommittee,
        lot: Some(l.clone()),
        period: year.to_string(),
        file_name: format!("comite-pilotage_L{l}_{year}.pdf"),
        data,
        charts: charts_out,
    })
}

/// The yearly regulation-committee file of all operators (*comité de régulation*).
pub fn regulation(ctx: &Context, year: i32) -> Result<Document, charts::ChartError> {
    let mut rows = Vec::new();
    let mut satisfaction = Vec::new();
    let s1 = HalfYear::new(year, 1)
        .map(|h| h.to_string())
        .unwrap_or_default();
    let s2 = HalfYear::new(year, 2)
        .map(|h| h.to_string())
        .unwrap_or_default();
    for lot in Lot::all() {
        let l = lot.to_string();
        let engaged = ctx
            .asof
            .dossiers
            .iter()
            .filter(|d| d.lot == lot && chrono::Datelike::year(&d.engagement()) == year)
            .count();
        let billable = ctx
            .units
            .iter()
            .filter(|u| {
                u.lot == lot
                    && chrono::Datelike::year(&u.closure.date) == year
                    && u.verdict.billable()
            })
            .count();
        let billed: i64 = statements_of(ctx, Some(&l), year)
            .iter()
            .map(|s| s["amount_ttc_cents"].as_i64().unwrap_or(0))
            .sum();
        rows.push(vec![
            l.clone(),
            format::integer(engaged as i64),
            format::integer(billable as i64),
            format::euros(billed),
            shown("8.1", ctx.value(&s1, "8.1", &l, "")),
            shown("8.1", ctx.value(&s2, "8.1", &l, "")),
        ]);
        let latest = ctx
            .value(&s2, "8.1", &l, "")
            .or_else(|| ctx.value(&s1, "8.1", &l, ""));
        if let Some(v) = latest
            && let (Some(x), Some(n)) = (v.value, v.denominator)
        {
            satisfaction.push((l, x, wilson(v.numerator, n)));
        }
    }
    let mut charts_out = BTreeMap::new();
    charts_out.insert(
        "satisfaction".into(),
        charts::lots_compared(
            "Bénéficiaires satisfaits (8.1, dernier semestre calculé)",
            &satisfaction,
        )?,
    );
    let months: Vec<YearMonth> = (1..=12).filter_map(|m| YearMonth::new(year, m)).collect();
    charts_out.insert(
        "engagements".into(),
        charts::engagements_by_uo(&months, &engagements(ctx, None, &months))?,
    );
    let total: i64 = statements_of(ctx, None, year)
        .iter()
        .map(|s| s["amount_ttc_cents"].as_i64().unwrap_or(0))
        .sum();
    let mut data = header(
        ctx,
        "Comité de régulation annuel".into(),
        format!("Les 19 lots du CEP · année {year}"),
        format!("Tous lots — {year}"),
        &year_periods(year),
    );
    data["year"] = json!(year);
    data["lots"] = table(
        &[
            "Lot",
            "Engagés",
            "Clôtures fact.",
            "Facturé TTC",
            "8.1 S1",
            "8.1 S2",
        ],
        "lrrrrr",
        rows,
    );
    data["billed_ttc"] = json!(format::euros(total));
    Ok(Document {
        kind: DocumentKind::RegulationCommittee,
        lot: None,
        period: year.to_string(),
        file_name: format!("comite-regulation_{year}.pdf"),
        data,
        charts: charts_out,
    })
}

/// A consumption statement (*relevé de consommation*) as issued, from its stored body.
pub fn statement(stored: &cep_store::models::buyer::StoredStatement) -> Document {
    let b: Value = serde_json::from_str(&stored.body_json).unwrap_or(Value::Null);
    let lines: Vec<Vec<String>> = b["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let d = |k: &str| {
                l[k].as_str()
                    .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
                    .map(format::date)
                    .unwrap_or_default()
            };
            vec![
                l["numero_dossier"].as_str().unwrap_or("").to_owned(),
                l["reference_bc"].as_str().unwrap_or("").to_owned(),
                l["uo"].as_str().unwrap_or("").to_owned(),
                d("date_engagement"),
                d("date_cloture"),
            ]
        })
        .collect();
    let cents = |k: &str| format::euros(b[k].as_i64().unwrap_or(0));
    let number = stored.number.clone();
    let reference = b["order_reference"].as_str().unwrap_or("").to_owned();
    let lot = reference
        .parse::<PurchaseOrderRef>()
        .ok()
        .map(|r| r.lot().to_string());
    let vat_bp = b["vat_rate_bp"].as_i64().unwrap_or(0);
    let data = json!({
        "title": "Relevé de consommation",
        "subtitle": format!("Bon de commande {reference} · {}", b["quarter"].as_str().unwrap_or("")),
        "header": format!("{number}"),
        "cutoff": format::cutoff(stored.cutoff),
        "run": Value::Null,
        "number": number,
        "lines": table(&["Dossier", "Référence de consommation", "UO", "Engagement", "Clôture"], "lllll", lines),
        "quantity": format::integer(b["quantity"].as_i64().unwrap_or(0)),
        "unit_price": cents("unit_price_ht_cents"),
        "amount_ht": cents("amount_ht_cents"),
        "vat_rate": format!("{}\u{A0}%", format::decimal(vat_bp as f64 / 100.0, 2)),
        "vat": cents("vat_cents"),
        "amount_ttc": cents("amount_ttc_cents"),
        "ordered": format::integer(b["ordered"].as_i64().unwrap_or(0)),
        "consumed": format::integer(b["consumed_to_date"].as_i64().unwrap_or(0)),
        "remaining": format::integer(b["remaining"].as_i64().unwrap_or(0)),
    });
    Document {
        kind: DocumentKind::Statement,
        lot,
        period: b["quarter"].as_str().unwrap_or("").to_owned(),
        file_name: format!("releve_{number}.pdf"),
        data,
        charts: BTreeMap::new(),
    }
}

/// Lots with any data in the context (dossiers or orders), in order.
pub fn lots_with_data(ctx: &Context) -> Vec<Lot> {
    let lots: BTreeSet<String> = ctx
        .asof
        .dossiers
        .iter()
        .map(|d| d.lot.to_string())
        .chain(ctx.orders.iter().map(|o| o.lot.clone()))
        .collect();
    lots.iter().filter_map(|l| Lot::parse(l).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(code: &str, value: f64) -> IndicatorValueRow {
        IndicatorValueRow {
            run_id: 1,
            code: code.into(),
            lot: "03".into(),
            category: String::new(),
            numerator: 158,
            denominator: Some(120.0),
            value: Some(value),
            median: None,
            mean: None,
            wilson_lower: None,
        }
    }

    /// Issue 22: an order consumed beyond its quantity is marked, and the mark explained under
    /// the table; other rates and small shares are shown as they are.
    #[test]
    fn rates_over_an_orders_quantity_are_marked_and_explained() {
        assert_eq!(
            shown("1.2", Some(&row("1.2", 1.317))),
            "131,7\u{A0}%\u{A0}*"
        );
        assert_eq!(shown("4.2", Some(&row("4.2", 0.49))), "49,0\u{A0}%");
        assert_eq!(shown("2.1", Some(&row("2.1", 0.0000437))), "0,0044\u{A0}%");
        let table = json!([["03", shown("1.2", Some(&row("1.2", 1.317)))]]);
        let with = legend_of(&["1.2"], &table);
        assert!(with.to_string().contains("au-delà de 100"), "{with}");
        let without = legend_of(&["1.2"], &json!([["08", "49,0 %"]]));
        assert!(!without.to_string().contains("au-delà"), "{without}");
    }
}
