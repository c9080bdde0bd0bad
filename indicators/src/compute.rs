//! The indicators of `indicators-v1` as Polars stages.
//!
//! Each indicator is a **selection**: the rows behind its numerator and, when it is counted,
//! its denominator (columns `lot`, `category`, `item` — a dossier number or the buyer's item —
//! and `person` or `days` where the measure needs them). The same selection serves the value
//! ([`compute`], counted per lot and nationally) and the drill-down ([`drill_down`]), so an
//! analyst's list is by construction what was counted. Denominators that are not counted
//! (purchase-order quantities, populations, FTE) come from small reference frames built in
//! [`crate::reference`].
//!
//! Every stage is lazy; [`compute`] concatenates all the indicators of a period and collects
//! once.

use crate::IndicatorError;
use crate::frames::{Frames, dossier as d, epoch_days};
use crate::reference::Reference;
use cep_domain::reference::RefTable;
use cep_domain::{HalfYear, Lot, WorkUnit, YearMonth};
use chrono::NaiveDate;
use polars::prelude::*;
use std::fmt;
use std::str::FromStr;

/// A monthly or half-yearly period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Month(YearMonth),
    Half(HalfYear),
}

impl Period {
    pub fn first_day(self) -> NaiveDate {
        match self {
            Period::Month(m) => m.first_day(),
            Period::Half(h) => h.first_day(),
        }
    }
    pub fn last_day(self) -> NaiveDate {
        match self {
            Period::Month(m) => m.last_day(),
            Period::Half(h) => h.last_day(),
        }
    }
    /// The indicator codes of this kind of period, in report order.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            Period::Month(_) => MONTHLY.as_slice(),
            Period::Half(_) => HALF_YEARLY.as_slice(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Half(h) => h.fmt(f),
        }
    }
}

impl FromStr for Period {
    type Err = cep_domain::period::PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains('S') {
            s.parse().map(Period::Half)
        } else {
            s.parse().map(Period::Month)
        }
    }
}

/// Monthly codes (indicators-v1, "Monthly"), in the domain catalogue's order.
pub static MONTHLY: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    cep_domain::indicator::codes(cep_domain::indicator::Frequency::Monthly).collect()
});

/// Half-yearly codes (indicators-v1, "Half-yearly"), in the domain catalogue's order.
pub static HALF_YEARLY: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    cep_domain::indicator::codes(cep_domain::indicator::Frequency::HalfYearly).collect()
});

/// Which part of an indicator a drill-down lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Numerator,
    Denominator,
}

/// What a drill-down gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillDown {
    /// The items counted (dossier numbers; complaint references for 8.7, `date#n` for 8.3),
    /// sorted, each once.
    Items(Vec<String>),
    /// The part is not counted from rows but read from reference data (what it is).
    External(&'static str),
}

/// How a selection's rows are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Rows,
    Persons,
    /// Sum of `days` (6.2–6.4's numerator), with their median.
    Days,
    /// Rows, with the median and mean of `days` (8.4's denominator).
    Delays,
}

/// The rows behind one part of an indicator.
#[derive(Clone)]
struct Rows {
    rows: LazyFrame,
    measure: Measure,
    /// Rows for the national figure when they differ from the union of the groups' rows
    /// (2.3, 2.4: a person's category is read nationally from all their dossiers).
    national: Option<LazyFrame>,
}

impl Rows {
    fn new(rows: LazyFrame, measure: Measure) -> Rows {
        Rows {
            rows,
            measure,
            national: None,
        }
    }
}

/// Grouping of an indicator: by lot, or by region (2.x and 3, point 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Lot,
    Region,
}

impl Group {
    fn of(code: &str) -> Group {
        if code.starts_with("2.") || code == "3" {
            Group::Region
        } else {
            Group::Lot
        }
    }
    /// The group codes, national last.
    fn names(self) -> Vec<String> {
        let lots: Vec<Lot> = match self {
            Group::Lot => Lot::all().collect(),
            Group::Region => Lot::regional().collect(),
        };
        lots.into_iter()
            .map(|l| l.to_string())
            .chain(std::iter::once(NATIONAL.to_owned()))
            .collect()
    }
}

pub const NATIONAL: &str = "national";

/// The grouping column of the selections: the lot's (or region's) number, 0 for national.
const GROUP: &str = "group_n";
const NATIONAL_GROUP: i32 = 0;

/// The data of one computation.
struct Ctx<'a> {
    frames: &'a Frames,
    reference: &'a Reference,
    period: Period,
    /// 2.3 and 2.4's latest rows per person (regional, national), built once.
    latest: std::cell::OnceCell<(LazyFrame, LazyFrame)>,
}

/// A date literal.
fn date(day: NaiveDate) -> Expr {
    lit(epoch_days(day)).cast(DataType::Date)
}

fn within(c: &str, from: NaiveDate, to: NaiveDate) -> Expr {
    col(c).gt_eq(date(from)).and(col(c).lt_eq(date(to)))
}

fn uo_is(uo: WorkUnit) -> Expr {
    col(d::UO_N).eq(lit(crate::frames::uo_number(uo)))
}

fn second_level() -> Expr {
    uo_is(WorkUnit::Uo21).or(uo_is(WorkUnit::Uo22))
}

/// The work unit of the codes x.1 … x.4 (UO0, UO1, UO2.1, UO2.2).
fn unit_of_quad(code: &str) -> WorkUnit {
    match code.rsplit('.').next() {
        Some("1") => WorkUnit::Uo0,
        Some("2") => WorkUnit::Uo1,
        Some("3") => WorkUnit::Uo21,
        _ => WorkUnit::Uo22,
    }
}

/// The work unit of 6.2–6.4 and 6.5–6.7 (UO1, UO2.1, UO2.2).
fn unit_of_triple(code: &str) -> WorkUnit {
    match code {
        "6.2" | "6.5" => WorkUnit::Uo1,
        "6.3" | "6.6" => WorkUnit::Uo21,
        _ => WorkUnit::Uo22,
    }
}

impl Ctx<'_> {
    /// The dossiers with `lot` set to the indicator's group, and an empty category.
    fn dossiers(&self, group: Group) -> LazyFrame {
        let lf = self.frames.dossiers.clone().lazy();
        let lf = match group {
            Group::Lot => lf.with_column(col(d::LOT_N).alias(GROUP)),
            Group::Region => {
                lf.with_columns([col(d::REGION).alias(d::LOT), col(d::REGION_N).alias(GROUP)])
            }
        };
        lf.with_columns([lit("").alias("category"), col(d::NUMERO).alias("item")])
    }

    fn month(&self) -> YearMonth {
        match self.period {
            Period::Month(m) => m,
            Period::Half(h) => h.last_month(),
        }
    }

    /// Dossiers whose `column` names the current order of their (lot, UO) for the month: a join
    /// on the order reference alone (the current orders are a few dozen), then the order's lot
    /// and UO checked against the dossier's.
    fn on_current_order(&self, rows: LazyFrame, column: &str) -> LazyFrame {
        let current = self
            .reference
            .current_orders(self.month(), &self.frames.order_ids)
            .lazy();
        rows.join(
            current,
            [col(column)],
            [col("current_order_n")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(
            col(d::LOT_N)
                .eq(col("order_lot_n"))
                .and(col(d::UO_N).eq(col("order_uo_n"))),
        )
    }

    /// The rows behind `part` of `code`, or `None` when that part is not counted from rows.
    fn selection(&self, code: &str, part: Part) -> Result<Option<Rows>, IndicatorError> {
        use Part::*;
        let group = Group::of(code);
        let first = self.period.first_day();
        let end = self.period.last_day();
        let year_start = NaiveDate::from_ymd_opt(chrono::Datelike::year(&end), 1, 1).expect("date");
        let dossiers = || self.dossiers(group);
        let closed_in = |from: NaiveDate, to: NaiveDate| {
            col(d::CLOSURE)
                .is_not_null()
                .and(within(d::CLOSURE, from, to))
        };
        let rows = match (code, part) {
            ("1.1" | "1.2" | "1.3" | "1.4", Numerator) => {
                let uo = unit_of_quad(code);
                let engaged = dossiers().filter(
                    uo_is(uo)
                        .and(col(d::ELIGIBLE))
                        .and(col(d::ENGAGEMENT).lt_eq(date(end))),
                );
                Rows::new(self.on_current_order(engaged, d::ORDER_N), Measure::Rows)
            }
            ("2.1" | "2.2" | "2.3" | "2.4", Numerator) => {
                let units = if code == "2.1" {
                    uo_is(WorkUnit::Uo0)
                } else {
                    uo_is(WorkUnit::Uo0).not()
                };
                let engaged = dossiers().filter(units.and(within(d::ENGAGEMENT, year_start, end)));
                match code {
                    "2.3" => self.by_latest(engaged, d::CATEGORIE),
                    "2.4" => self.by_latest(engaged, d::STATUT),
                    _ => Rows::new(engaged, Measure::Persons),
                }
            }
            ("3", Numerator) => Rows::new(
                dossiers().filter(uo_is(WorkUnit::Uo0).not().and(within(
                    d::ENGAGEMENT,
                    year_start,
                    end,
                ))),
                Measure::Rows,
            ),
            ("3", Denominator) => {
                let m = self.month();
                let last_year = YearMonth::new(m.year() - 1, m.month()).expect("month");
                let start = NaiveDate::from_ymd_opt(m.year() - 1, 1, 1).expect("date");
                Rows::new(
                    dossiers().filter(uo_is(WorkUnit::Uo0).not().and(within(
                        d::ENGAGEMENT,
                        start,
                        last_year.last_day(),
                    ))),
                    Measure::Rows,
                )
            }
            ("4.1" | "4.2" | "4.3" | "4.4", Numerator) => {
                let uo = unit_of_quad(code);
                let closed = dossiers().filter(
                    uo_is(uo)
                        .and(col(d::CONSUMES_N).is_not_null())
                        .and(col(d::CLOSURE).lt_eq(date(end))),
                );
                Rows::new(self.on_current_order(closed, d::CONSUMES_N), Measure::Rows)
            }
            ("5.1" | "5.2" | "5.3" | "5.4", Numerator) => Rows::new(
                dossiers().filter(
                    uo_is(unit_of_quad(code))
                        .and(col(d::CONSUMES_N).is_not_null())
                        .and(col(d::CLOSURE).lt_eq(date(end))),
                ),
                Measure::Rows,
            ),
            ("6.1", _) => {
                let closed = dossiers().filter(second_level().and(closed_in(first, end)));
                let closed = if part == Numerator {
                    closed.filter(col(d::COMPLEMENTARY))
                } else {
                    closed
                };
                Rows::new(closed, Measure::Rows)
            }
            ("6.2" | "6.3" | "6.4", _) => {
                let closed = dossiers()
                    .filter(
                        uo_is(unit_of_triple(code))
                            .and(col(d::VOLUNTARY))
                            .and(closed_in(first, end)),
                    )
                    .with_column(
                        (col(d::CLOSURE).cast(DataType::Int32)
                            - col(d::ENGAGEMENT).cast(DataType::Int32))
                        .cast(DataType::Int64)
                        .alias("days"),
                    );
                let measure = if part == Numerator {
                    Measure::Days
                } else {
                    Measure::Rows
                };
                Rows::new(closed, measure)
            }
            ("6.5" | "6.6" | "6.7", Numerator) => Rows::new(
                dossiers().filter(
                    uo_is(unit_of_triple(code))
                        .and(col(d::CLOSURE).is_not_null())
                        .and(col(d::VOLUNTARY).not())
                        .and(col(d::DEADLINE).is_not_null())
                        .and(within(d::DEADLINE, first, end)),
                ),
                Measure::Rows,
            ),
            ("6.8", _) => {
                let m3 = self.month().plus(-3);
                let closed =
                    dossiers().filter(second_level().and(closed_in(m3.first_day(), m3.last_day())));
                if part == Denominator {
                    Rows::new(closed, Measure::Persons)
                } else {
                    let engagements = self
                        .frames
                        .dossiers
                        .clone()
                        .lazy()
                        .filter(uo_is(WorkUnit::Uo1).or(uo_is(WorkUnit::Uo21)))
                        .select([
                            col(d::PERSON).alias("next_person"),
                            col(d::ENGAGEMENT).alias("next_engagement"),
                        ]);
                    let followed = closed
                        .join(
                            engagements,
                            [col(d::PERSON)],
                            [col("next_person")],
                            JoinArgs::new(JoinType::Inner),
                        )
                        .filter(
                            col("next_engagement")
                                .gt(col(d::CLOSURE))
                                .and(col("next_engagement").lt_eq(col(d::FOLLOW_UP_UNTIL))),
                        );
                    Rows::new(followed, Measure::Persons)
                }
            }
            ("7.1" | "7.2" | "7.3" | "7.4", Numerator) => Rows::new(
                dossiers().filter(
                    uo_is(unit_of_quad(code))
                        .and(col(d::CONSUMES_N).is_not_null())
                        .and(closed_in(first, end)),
                ),
                Measure::Rows,
            ),
            ("8.1", _) => self.events(&self.frames.surveys, part),
            ("8.3", _) => self.events(&self.frames.mystery, part),
            ("8.5", _) => self.events(&self.frames.controls, part),
            ("8.7", _) => self.events(&self.frames.complaints, part),
            ("8.2", _) => {
                let closed = dossiers().filter(second_level().and(closed_in(first, end)));
                let per_type: Vec<LazyFrame> = RefTable::TypeService
                    .entries()
                    .iter()
                    .map(|(t, _)| {
                        let rows = closed.clone().with_column(lit(*t).alias("category"));
                        if part == Numerator {
                            rows.filter(
                                col(d::TYPES_SERVICE)
                                    .str()
                                    .contains_literal(lit(format!("|{t}|"))),
                            )
                        } else {
                            rows
                        }
                    })
                    .collect();
                Rows::new(concat(per_type, UnionArgs::default())?, Measure::Rows)
            }
            ("8.4", _) => {
                let asked = dossiers()
                    .filter(
                        (uo_is(WorkUnit::Uo1).or(uo_is(WorkUnit::Uo21)))
                            .and(col(d::FIRST_INTERACTION).is_not_null())
                            .and(within(d::FIRST_INTERACTION, first, end))
                            .and(col(d::RDV_REQUEST).is_not_null()),
                    )
                    .with_column(col(d::RDV_DELAY).alias("days"));
                let asked = if part == Numerator {
                    asked.filter(col("days").lt_eq(lit(30i64)))
                } else {
                    asked
                };
                Rows::new(asked, Measure::Rows)
            }
            ("8.6", _) => {
                let closed = dossiers().filter(
                    second_level()
                        .and(closed_in(first, end))
                        .and(col(d::COMPLEMENTARY)),
                );
                let closed = if part == Numerator {
                    closed.filter(col(d::AUTO_PRESCRIPTION).fill_null(lit(false)))
                } else {
                    closed
                };
                Rows::new(closed, Measure::Rows)
            }
            _ => return Ok(None),
        };
        Ok(Some(rows))
    }

    /// Buyer-side events (surveys, mystery contacts, controls, complaints) dated in the
    /// period, of a known lot; the numerator keeps the positive ones.
    fn events(&self, frame: &DataFrame, part: Part) -> Rows {
        let rows = frame
            .clone()
            .lazy()
            .filter(col("lot").is_not_null().and(within(
                "date",
                self.period.first_day(),
                self.period.last_day(),
            )))
            .with_columns([lit("").alias("category"), col("lot_n").alias(GROUP)]);
        let rows = if part == Part::Numerator {
            rows.filter(col("positive"))
        } else {
            rows
        };
        Rows::new(rows, Measure::Rows)
    }
}

impl Ctx<'_> {
    /// 2.3 and 2.4: each person's category is `column` on their latest fiche among the rows
    /// that make them count (point 5), per region and nationally. Two fiches of one
    /// `horodatage`: the greater dossier number is the latest. One row per (group, person),
    /// its item the dossier whose fiche gave the category. The latest rows are computed once
    /// for both indicators (a cached subplan).
    fn by_latest(&self, rows: LazyFrame, column: &str) -> Rows {
        let (regional, national) = self
            .latest
            .get_or_init(|| {
                let latest = |keys: Vec<Expr>, national: bool| {
                    let mut group = keys;
                    group.push(col(d::PERSON));
                    // The greatest recency of each group; recencies are unique, so joining on
                    // it alone keeps exactly the row of each group's latest fiche.
                    let newest = rows
                        .clone()
                        .group_by(group)
                        .agg([col(d::RECENCY).max().alias("newest")])
                        .select([col("newest")]);
                    let lf = rows.clone().join(
                        newest,
                        [col(d::RECENCY)],
                        [col("newest")],
                        JoinArgs::new(JoinType::Inner),
                    );
                    if national {
                        lf.with_column(lit(NATIONAL_GROUP).alias(GROUP)).cache()
                    } else {
                        lf.cache()
                    }
                };
                (latest(vec![col(GROUP)], false), latest(vec![], true))
            })
            .clone();
        let categorised = |lf: LazyFrame| {
            lf.with_column(col(column).alias("category"))
                .filter(col("category").is_not_null())
        };
        Rows {
            rows: categorised(regional),
            measure: Measure::Rows,
            national: Some(categorised(national)),
        }
    }
}

/// Counts rows per (lot, category) and nationally per category: `n`, and `median` of `days`
/// for [`Measure::Days`].
fn counted(rows: Rows) -> LazyFrame {
    let aggs = || -> Vec<Expr> {
        match rows.measure {
            Measure::Rows => vec![len().cast(DataType::Int64).alias("n")],
            Measure::Persons => vec![col(d::PERSON).n_unique().cast(DataType::Int64).alias("n")],
            Measure::Days => vec![
                col("days").sum().cast(DataType::Int64).alias("n"),
                col("days").cast(DataType::Float64).median().alias("median"),
            ],
            Measure::Delays => vec![
                len().cast(DataType::Int64).alias("n"),
                col("days").cast(DataType::Float64).median().alias("median"),
                col("days").cast(DataType::Float64).mean().alias("mean"),
            ],
        }
    };
    let mut columns = vec![col(GROUP), col("category"), col("n")];
    if matches!(rows.measure, Measure::Days | Measure::Delays) {
        columns.push(col("median"));
    }
    if rows.measure == Measure::Delays {
        columns.push(col("mean"));
    }
    let per_group = rows
        .rows
        .clone()
        .group_by([col(GROUP), col("category")])
        .agg(aggs())
        .select(columns.clone());
    let national = rows
        .national
        .unwrap_or(rows.rows)
        .group_by([col("category")])
        .agg(aggs())
        .with_column(lit(NATIONAL_GROUP).alias(GROUP))
        .select(columns);
    concat([per_group, national], UnionArgs::default()).expect("same schemas")
}

/// Every (group, category) of an indicator, so that a group with nothing counted has a row.
fn grid(group: Group, categories: &[&str]) -> PolarsResult<LazyFrame> {
    let mut lots = Vec::new();
    let mut numbers = Vec::new();
    let mut cats = Vec::new();
    for g in group.names() {
        for c in categories {
            numbers.push(group_number(&g));
            lots.push(g.clone());
            cats.push((*c).to_owned());
        }
    }
    Ok(DataFrame::new_infer_height(vec![
        Column::new(d::LOT.into(), lots),
        Column::new(GROUP.into(), numbers),
        Column::new("category".into(), cats),
    ])?
    .lazy())
}

/// The integer of a group (`08` → 8, `national` → 0).
fn group_number(lot: &str) -> i32 {
    lot.parse().unwrap_or(NATIONAL_GROUP)
}

fn categories_of(code: &str) -> Vec<&'static str> {
    let table = match code {
        "2.3" => RefTable::CategorieSociale,
        "2.4" => RefTable::Statut,
        "8.2" => RefTable::TypeService,
        _ => return vec![""],
    };
    table.entries().iter().map(|(c, _)| *c).collect()
}

/// Left-joins `counts` (`lot`, `category`, `n` …) on the grid, zero where nothing was counted.
fn on_grid(grid: LazyFrame, counts: LazyFrame, name: &str) -> LazyFrame {
    let keys = [col(GROUP), col("category")];
    grid.join(counts, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_column(col("n").fill_null(lit(0i64)).alias(name))
        .drop(cols(["n"]))
}

/// How the value follows from numerator and denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Ratio,
    /// 3: ratio − 1.
    Growth,
    /// 6.5–6.7: the count itself, no denominator.
    Count,
}

fn value(kind: ValueKind) -> Expr {
    let num = col("numerator").cast(DataType::Float64);
    let den = col("denominator");
    let defined = den.clone().is_not_null().and(den.clone().neq(lit(0.0)));
    match kind {
        ValueKind::Ratio => when(defined).then(num / den).otherwise(lit(NULL)),
        ValueKind::Growth => when(defined)
            .then(num / den - lit(1.0))
            .otherwise(lit(NULL)),
        ValueKind::Count => num,
    }
    .cast(DataType::Float64)
    .alias("value")
}

/// The output columns, in order (indicators-v1 "Output rows", without period and cut-off).
const OUTPUT: [&str; 9] = [
    "code",
    "lot",
    "category",
    "numerator",
    "denominator",
    "value",
    "median",
    "mean",
    "wilson_lower",
];

fn finish(lf: LazyFrame, code: &str, kind: ValueKind) -> LazyFrame {
    lf.with_column(value(kind))
        .with_column(lit(code).alias("code"))
        .select(OUTPUT.map(|c| col(c).alias(c)))
}

/// Ensures the optional output columns exist (null Float64).
fn with_optional(lf: LazyFrame, present: &[&str]) -> LazyFrame {
    let missing: Vec<Expr> = ["denominator", "median", "mean", "wilson_lower"]
        .into_iter()
        .filter(|c| !present.contains(c))
        .map(|c| lit(NULL).cast(DataType::Float64).alias(c))
        .collect();
    lf.with_columns(missing)
}

/// National row of an indicator whose denominator is external per lot: sums over the lots
/// that have both a numerator and a denominator (point 16, applied to 1.x, 4.x, 5.x and 7.x).
/// The row is there even when no lot has both (numerator 0, no denominator, no value): a
/// half-year whose `MOYENS` lines have not come yet still has its national 7.x rows.
fn national_from_lots(per_lot: LazyFrame, categories: &[&str]) -> PolarsResult<LazyFrame> {
    let sums = per_lot
        .filter(col("denominator").is_not_null())
        .group_by([col("category")])
        .agg([
            col("numerator")
                .sum()
                .cast(DataType::Int64)
                .alias("numerator"),
            col("denominator").sum().alias("denominator"),
        ]);
    let every = DataFrame::new_infer_height(vec![Column::new(
        "category".into(),
        categories
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<Vec<_>>(),
    )])?
    .lazy();
    Ok(every
        .join(
            sums,
            [col("category")],
            [col("category")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("numerator").fill_null(lit(0i64)).alias("numerator"))
        .with_column(lit(NATIONAL).alias(d::LOT)))
}

impl Ctx<'_> {
    fn indicator(&self, code: &str) -> Result<LazyFrame, IndicatorError> {
        let group = Group::of(code);
        let cats = categories_of(code);
        let grid = || grid(group, &cats);
        let numerator = self
            .selection(code, Part::Numerator)?
            .ok_or_else(|| IndicatorError::Unknown(code.to_owned()))?;
        let median = numerator.measure == Measure::Days;
        let num = on_grid(grid()?, counted(numerator), "numerator");
        let lf = match code {
            // External per-lot denominators; national sums the lots that have both.
            "1.1" | "1.2" | "1.3" | "1.4" | "4.1" | "4.2" | "4.3" | "4.4" | "5.1" | "5.2"
            | "5.3" | "5.4" | "7.1" | "7.2" | "7.3" | "7.4" => {
                let uo = unit_of_quad(code);
                let den = match code.as_bytes()[0] {
                    b'1' | b'4' => self.reference.current_quantity(self.month(), uo),
                    b'5' => self.reference.notified_quantity(self.period.last_day(), uo),
                    _ => self.reference.fte(self.period, uo),
                }
                .lazy();
                let per_lot = num.filter(col(d::LOT).neq(lit(NATIONAL))).join(
                    den,
                    [col(d::LOT)],
                    [col("den_lot")],
                    JoinArgs::new(JoinType::Left),
                );
                let national = national_from_lots(per_lot.clone(), &cats)?;
                let cols3 = [
                    col(d::LOT),
                    col("category"),
                    col("numerator"),
                    col("denominator"),
                ];
                let both = concat(
                    [per_lot.select(cols3.clone()), national.select(cols3)],
                    UnionArgs::default(),
                )?;
                finish(
                    with_optional(both, &["denominator"]),
                    code,
                    ValueKind::Ratio,
                )
            }
            "2.1" | "2.2" => {
                let den = self
                    .reference
                    .population_totals(self.month().year(), code == "2.1")
                    .lazy();
                let lf = num.join(
                    den,
                    [col(d::LOT)],
                    [col("den_lot")],
                    JoinArgs::new(JoinType::Left),
                );
                finish(with_optional(lf, &["denominator"]), code, ValueKind::Ratio)
            }
            "2.3" | "2.4" => {
                // Rate where the category's population is known, else a share of 2.2's
                // numerator (point 5).
                let total = on_grid(
                    self::grid(group, &[""])?,
                    counted(self.selection("2.2", Part::Numerator)?.expect("2.2")),
                    "total",
                )
                .select([col(d::LOT).alias("total_lot"), col("total")]);
                let dimension = if code == "2.3" {
                    crate::inputs::Dimension::SocialCategory
                } else {
                    crate::inputs::Dimension::Status
                };
                let den = self
                    .reference
                    .population_categories(self.month().year(), dimension, &cats)
                    .lazy();
                let keys = [col(d::LOT), col("category")];
                let lf = num
                    .join(
                        den,
                        keys,
                        [col("den_lot"), col("den_category")],
                        JoinArgs::new(JoinType::Left),
                    )
                    .join(
                        total,
                        [col(d::LOT)],
                        [col("total_lot")],
                        JoinArgs::new(JoinType::Left),
                    )
                    .with_column(
                        when(col("denominator").is_null())
                            .then(col("total").cast(DataType::Float64))
                            .otherwise(col("denominator"))
                            .alias("denominator"),
                    );
                finish(with_optional(lf, &["denominator"]), code, ValueKind::Ratio)
            }
            "6.5" | "6.6" | "6.7" => finish(with_optional(num, &[]), code, ValueKind::Count),
            _ => {
                // Counted denominator.
                let den_rows = self
                    .selection(code, Part::Denominator)?
                    .ok_or_else(|| IndicatorError::Unknown(code.to_owned()))?;
                let delays = code == "8.4";
                let den_counts = counted(if delays {
                    Rows {
                        measure: Measure::Delays,
                        ..den_rows
                    }
                } else {
                    den_rows
                });
                let mut den = on_grid(grid()?, den_counts, "den_n")
                    .with_column(col("den_n").cast(DataType::Float64).alias("denominator"));
                let keys = [col(d::LOT), col("category")];
                let mut keep = vec![col(d::LOT), col("category"), col("denominator")];
                if delays {
                    keep.push(col("median"));
                    keep.push(col("mean"));
                }
                den = den.select(keep);
                let lf = num.join(den, keys.clone(), keys, JoinArgs::new(JoinType::Left));
                let mut present = vec!["denominator"];
                if median || delays {
                    present.push("median");
                }
                if delays {
                    present.push("mean");
                }
                let kind = if code == "3" {
                    ValueKind::Growth
                } else {
                    ValueKind::Ratio
                };
                finish(with_optional(lf, &present), code, kind)
            }
        };
        Ok(lf)
    }
}

/// Every indicator of `period`, per lot (or region) and national, collected once: columns
/// `code`, `lot`, `category`, `numerator`, `denominator`, `value`, `median`, `mean`,
/// `wilson_lower` (filled for 8.1 by [`crate::run`]).
pub fn compute(
    frames: &Frames,
    reference: &Reference,
    period: Period,
) -> Result<DataFrame, IndicatorError> {
    let ctx = Ctx {
        frames,
        reference,
        period,
        latest: Default::default(),
    };
    let parts = period
        .codes()
        .iter()
        .map(|c| ctx.indicator(c))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(concat(parts, UnionArgs::default())?.collect()?)
}

/// One indicator of `period` alone, collected (the benchmark times them one by one).
pub fn compute_one(
    frames: &Frames,
    reference: &Reference,
    period: Period,
    code: &str,
) -> Result<DataFrame, IndicatorError> {
    let ctx = Ctx {
        frames,
        reference,
        period,
        latest: Default::default(),
    };
    Ok(ctx.indicator(code)?.collect()?)
}

/// The items behind `part` of `code` for `lot` (a lot, a region for 2.x and 3, or
/// `national`) and `category` (empty unless 2.3, 2.4, 8.2).
pub fn drill_down(
    frames: &Frames,
    reference: &Reference,
    period: Period,
    code: &str,
    lot: &str,
    category: &str,
    part: Part,
) -> Result<DrillDown, IndicatorError> {
    if !period.codes().contains(&code) {
        return Err(IndicatorError::Unknown(format!("{code} for {period}")));
    }
    let ctx = Ctx {
        frames,
        reference,
        period,
        latest: Default::default(),
    };
    let Some(rows) = ctx.selection(code, part)? else {
        return Ok(DrillDown::External(match code.as_bytes()[0] {
            b'1' | b'4' => "the current purchase order's quantity",
            b'5' => "the quantities of the lot's orders notified by the end of the month",
            b'7' => "the FTE declared in the lot's MOYENS line",
            b'2' => "the region's reference population",
            _ => "no denominator (a count)",
        }));
    };
    let lf = if lot == NATIONAL {
        rows.national.unwrap_or(rows.rows)
    } else {
        rows.rows.filter(col(GROUP).eq(lit(group_number(lot))))
    };
    let df = lf
        .filter(col("category").eq(lit(category)))
        .select([col("item")])
        .unique(None, UniqueKeepStrategy::Any)
        .sort(["item"], SortMultipleOptions::default())
        .collect()?;
    let items = df
        .column("item")?
        .str()?
        .iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    Ok(DrillDown::Items(items))
}
