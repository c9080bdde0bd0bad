//! [`Inputs`] as Polars frames, with their schemas checked before any computation.
//!
//! Dates are Polars `Date`s; lots, regions and work units are their two-character codes
//! (`08`, `2.1`); list fields are `|`-delimited strings with a leading and trailing `|`, so
//! that "lists code X" is a literal `contains("|X|")`.

use crate::IndicatorError;
use crate::inputs::{DossierFacts, Inputs};
use cep_domain::add_months;
use chrono::NaiveDate;
use polars::prelude::*;

/// Column names of the dossiers frame.
pub mod dossier {
    pub const NUMERO: &str = "numero";
    pub const LOT: &str = "lot";
    pub const REGION: &str = "region";
    pub const UO: &str = "uo";
    /// The lot, region and work unit as integers (8, 21 for UO2.1), which filters and groups
    /// read much faster than strings.
    pub const LOT_N: &str = "lot_n";
    pub const REGION_N: &str = "region_n";
    pub const UO_N: &str = "uo_n";
    pub const PERSON: &str = "person";
    pub const STATUT: &str = "statut";
    pub const CATEGORIE: &str = "categorie_sociale";
    /// The dossier's rank among all dossiers by (`horodatage` of its latest fiche, dossier
    /// number): the greater, the more recent (2.3, 2.4: a person's latest fiche).
    pub const RECENCY: &str = "recency";
    pub const ELIGIBLE: &str = "eligible";
    pub const ENGAGEMENT: &str = "engagement";
    pub const DEADLINE: &str = "deadline";
    pub const CLOSURE: &str = "closure";
    pub const VOLUNTARY: &str = "voluntary";
    pub const COMPLEMENTARY: &str = "complementary";
    pub const AUTO_PRESCRIPTION: &str = "auto_prescription";
    pub const TYPES_SERVICE: &str = "types_service";
    pub const RDV_REQUEST: &str = "rdv_request";
    pub const FIRST_INTERACTION: &str = "first_interaction";
    pub const RDV_DELAY: &str = "rdv_delay";
    /// Closure + 3 months (6.8's window).
    pub const FOLLOW_UP_UNTIL: &str = "follow_up_until";
    /// The order named by `reference_bc`, and the order a billable closure consumes, as
    /// integers ([`super::Frames::order_ids`]; null when none).
    pub const ORDER_N: &str = "order_n";
    pub const CONSUMES_N: &str = "consumes_n";
}

/// The frames the indicators are computed from (all as of one cut-off).
#[derive(Debug, Clone)]
pub struct Frames {
    pub dossiers: DataFrame,
    /// The integer of each purchase-order reference in `order_n` and `consumes_n`.
    pub order_ids: std::collections::HashMap<String, i64>,
    pub surveys: DataFrame,
    pub mystery: DataFrame,
    pub controls: DataFrame,
    pub complaints: DataFrame,
}

/// A work unit as an integer: 0, 1, 21, 22.
pub fn uo_number(uo: cep_domain::WorkUnit) -> i32 {
    match uo {
        cep_domain::WorkUnit::Uo0 => 0,
        cep_domain::WorkUnit::Uo1 => 1,
        cep_domain::WorkUnit::Uo21 => 21,
        cep_domain::WorkUnit::Uo22 => 22,
    }
}

fn lot_numbers(lots: impl Iterator<Item = Option<cep_domain::Lot>>) -> Column {
    Column::new(
        "lot_n".into(),
        lots.map(|l| l.map(|l| i32::from(l.number())))
            .collect::<Vec<Option<i32>>>(),
    )
}

/// Days since 1970-01-01, Polars' `Date` representation.
pub fn epoch_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn dates(name: &str, values: impl Iterator<Item = Option<NaiveDate>>) -> PolarsResult<Column> {
    let days: Vec<Option<i32>> = values.map(|d| d.map(epoch_days)).collect();
    Column::new(name.into(), days).cast(&DataType::Date)
}

fn strings<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), values.collect::<Vec<Option<&str>>>())
}

/// `|a|b|` for a list (`|` alone when empty), so that membership is `contains("|a|")`.
pub fn delimited(values: &[String]) -> String {
    let mut s = String::from("|");
    for v in values {
        s.push_str(v);
        s.push('|');
    }
    s
}

fn dossiers_frame(
    rows: &[DossierFacts],
    order_ids: &mut std::collections::HashMap<String, i64>,
) -> PolarsResult<DataFrame> {
    use dossier::*;
    let mut order_n = |r: Option<&String>| {
        r.map(|r| {
            let next = order_ids.len() as i64;
            *order_ids.entry(r.clone()).or_insert(next)
        })
    };
    let orders: Vec<Option<i64>> = rows.iter().map(|d| order_n(d.order.as_ref())).collect();
    let consumes: Vec<Option<i64>> = rows.iter().map(|d| order_n(d.consumes.as_ref())).collect();
    let lot: Vec<String> = rows.iter().map(|d| d.lot.to_string()).collect();
    let region: Vec<String> = rows.iter().map(|d| d.region.to_string()).collect();
    let types: Vec<String> = rows.iter().map(|d| delimited(&d.types_service)).collect();
    // Persons as dense integers (counting and joining on them is cheaper than on strings).
    let mut ids: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    let persons: Vec<i64> = rows
        .iter()
        .map(|d| {
            let next = ids.len() as i64;
            *ids.entry(d.person.as_str()).or_insert(next)
        })
        .collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        (rows[a].horodatage, &rows[a].numero).cmp(&(rows[b].horodatage, &rows[b].numero))
    });
    let mut recency = vec![0i64; rows.len()];
    for (rank, i) in order.into_iter().enumerate() {
        recency[i] = rank as i64;
    }
    DataFrame::new_infer_height(vec![
        strings(NUMERO, rows.iter().map(|d| Some(d.numero.as_str()))),
        strings(LOT, lot.iter().map(|s| Some(s.as_str()))),
        strings(REGION, region.iter().map(|s| Some(s.as_str()))),
        strings(UO, rows.iter().map(|d| Some(d.uo.column_code()))),
        Column::new(
            LOT_N.into(),
            rows.iter()
                .map(|d| i32::from(d.lot.number()))
                .collect::<Vec<i32>>(),
        ),
        Column::new(
            REGION_N.into(),
            rows.iter()
                .map(|d| i32::from(d.region.number()))
                .collect::<Vec<i32>>(),
        ),
        Column::new(
            UO_N.into(),
            rows.iter().map(|d| uo_number(d.uo)).collect::<Vec<i32>>(),
        ),
        Column::new(PERSON.into(), persons),
        strings(STATUT, rows.iter().map(|d| Some(d.statut.as_str()))),
        strings(
            CATEGORIE,
            rows.iter().map(|d| d.categorie_sociale.as_deref()),
        ),
        Column::new(RECENCY.into(), recency),
        Column::new(
            ELIGIBLE.into(),
            rows.iter().map(|d| d.eligible).collect::<Vec<bool>>(),
        ),
        dates(ENGAGEMENT, rows.iter().map(|d| Some(d.engagement)))?,
        dates(DEADLINE, rows.iter().map(|d| d.deadline))?,
        dates(CLOSURE, rows.iter().map(|d| d.closure))?,
        Column::new(
            VOLUNTARY.into(),
            rows.iter().map(|d| d.voluntary).collect::<Vec<bool>>(),
        ),
        Column::new(ORDER_N.into(), orders),
        Column::new(CONSUMES_N.into(), consumes),
        Column::new(
            COMPLEMENTARY.into(),
            rows.iter().map(|d| d.complementary).collect::<Vec<bool>>(),
        ),
        Column::new(
            AUTO_PRESCRIPTION.into(),
            rows.iter()
                .map(|d| d.auto_prescription)
                .collect::<Vec<Option<bool>>>(),
        ),
        strings(TYPES_SERVICE, types.iter().map(|s| Some(s.as_str()))),
        dates(RDV_REQUEST, rows.iter().map(|d| d.rdv_request))?,
        dates(FIRST_INTERACTION, rows.iter().map(|d| d.first_interaction))?,
        Column::new(
            RDV_DELAY.into(),
            rows.iter()
                .map(|d| d.rdv_delay)
                .collect::<Vec<Option<i64>>>(),
        ),
        dates(
            FOLLOW_UP_UNTIL,
            rows.iter().map(|d| d.closure.map(|c| add_months(c, 3))),
        )?,
    ])
}

impl Frames {
    /// Builds the frames and checks their schemas.
    pub fn new(inputs: &Inputs) -> Result<Frames, IndicatorError> {
        let lots = |l: &Option<cep_domain::Lot>| l.map(|l| l.to_string());
        let survey_lots: Vec<Option<String>> =
            inputs.surveys.iter().map(|s| lots(&s.lot)).collect();
        let control_lots: Vec<Option<String>> =
            inputs.controls.iter().map(|s| lots(&s.lot)).collect();
        let mystery_lots: Vec<String> = inputs.mystery.iter().map(|m| m.lot.to_string()).collect();
        let complaint_lots: Vec<String> = inputs
            .complaints
            .iter()
            .map(|c| c.lot.to_string())
            .collect();
        let mut order_ids = std::collections::HashMap::new();
        let frames = Frames {
            dossiers: dossiers_frame(&inputs.dossiers, &mut order_ids)?,
            order_ids,
            surveys: DataFrame::new_infer_height(vec![
                strings(
                    "item",
                    inputs.surveys.iter().map(|s| Some(s.numero.as_str())),
                ),
                strings("lot", survey_lots.iter().map(|s| s.as_deref())),
                lot_numbers(inputs.surveys.iter().map(|s| s.lot)),
                dates("date", inputs.surveys.iter().map(|s| Some(s.date)))?,
                Column::new(
                    "positive".into(),
                    inputs
                        .surveys
                        .iter()
                        .map(|s| s.satisfied)
                        .collect::<Vec<bool>>(),
                ),
            ])?,
            mystery: DataFrame::new_infer_height(vec![
                strings(
                    "item",
                    inputs
                        .mystery
                        .iter()
                        .map(|m| format!("{}#{}", m.date, m.number))
                        .collect::<Vec<String>>()
                        .iter()
                        .map(|s| Some(s.as_str())),
                ),
                strings("lot", mystery_lots.iter().map(|s| Some(s.as_str()))),
                lot_numbers(inputs.mystery.iter().map(|m| Some(m.lot))),
                dates("date", inputs.mystery.iter().map(|m| Some(m.date)))?,
                Column::new(
                    "positive".into(),
                    inputs
                        .mystery
                        .iter()
                        .map(|m| m.compliant)
                        .collect::<Vec<bool>>(),
                ),
            ])?,
            controls: DataFrame::new_infer_height(vec![
                strings(
                    "item",
                    inputs.controls.iter().map(|c| Some(c.numero.as_str())),
                ),
                strings("lot", control_lots.iter().map(|s| s.as_deref())),
                lot_numbers(inputs.controls.iter().map(|s| s.lot)),
                dates("date", inputs.controls.iter().map(|c| Some(c.date)))?,
                Column::new(
                    "positive".into(),
                    inputs
                        .controls
                        .iter()
                        .map(|c| c.compliant)
                        .collect::<Vec<bool>>(),
                ),
            ])?,
            complaints: DataFrame::new_infer_height(vec![
                strings(
                    "item",
                    inputs.complaints.iter().map(|c| Some(c.reference.as_str())),
                ),
                strings("lot", complaint_lots.iter().map(|s| Some(s.as_str()))),
                lot_numbers(inputs.complaints.iter().map(|c| Some(c.lot))),
                dates("date", inputs.complaints.iter().map(|c| Some(c.received)))?,
                Column::new(
                    "positive".into(),
                    inputs
                        .complaints
                        .iter()
                        .map(|c| c.mediated)
                        .collect::<Vec<bool>>(),
                ),
            ])?,
        };
        frames.check()?;
        Ok(frames)
    }

    /// Checks every frame against the schema the indicators expect (a frame built elsewhere,
    /// e.g. by the benchmark, is checked the same way).
    pub fn check(&self) -> Result<(), IndicatorError> {
        use dossier::*;
        let s = DataType::String;
        let b = DataType::Boolean;
        let d = DataType::Date;
        let i = DataType::Int64;
        let n = DataType::Int32;
        let expected_dossiers: Vec<(&str, &DataType)> = vec![
            (NUMERO, &s),
            (LOT, &s),
            (REGION, &s),
            (UO, &s),
            (LOT_N, &n),
            (REGION_N, &n),
            (UO_N, &n),
            (PERSON, &i),
            (STATUT, &s),
            (CATEGORIE, &s),
            (RECENCY, &i),
            (ELIGIBLE, &b),
            (ENGAGEMENT, &d),
            (DEADLINE, &d),
            (CLOSURE, &d),
            (VOLUNTARY, &b),
            (ORDER_N, &i),
            (CONSUMES_N, &i),
            (COMPLEMENTARY, &b),
            (AUTO_PRESCRIPTION, &b),
            (TYPES_SERVICE, &s),
            (RDV_REQUEST, &d),
            (FIRST_INTERACTION, &d),
            (RDV_DELAY, &i),
            (FOLLOW_UP_UNTIL, &d),
        ];
        check_schema("dossiers", &self.dossiers, &expected_dossiers)?;
        let events: Vec<(&str, &DataType)> = vec![
            ("item", &s),
            ("lot", &s),
            ("lot_n", &n),
            ("date", &d),
            ("positive", &b),
        ];
        check_schema("surveys", &self.surveys, &events)?;
        check_schema("mystery", &self.mystery, &events)?;
        check_schema("controls", &self.controls, &events)?;
        check_schema("complaints", &self.complaints, &events)?;
        Ok(())
    }
}

fn check_schema(
    frame: &str,
    df: &DataFrame,
    expected: &[(&str, &DataType)],
) -> Result<(), IndicatorError> {
    let schema = df.schema();
    for (name, dtype) in expected {
        match schema.get(name) {
            Some(t) if t == *dtype => {}
            Some(t) => {
                return Err(IndicatorError::Schema(format!(
                    "{frame}.{name} is {t}, expected {dtype}"
                )));
            }
            None => {
                return Err(IndicatorError::Schema(format!(
                    "{frame} has no column {name}"
                )));
            }
        }
    }
    Ok(())
}
