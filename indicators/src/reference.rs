//! The denominators that are read, not counted: purchase-order quantities (1.x, 4.x, 5.x),
//! reference populations (2.x) and declared FTE (7.x), as small frames keyed by lot
//! (`den_lot`) to join on the counted numerators.

use crate::compute::{NATIONAL, Period};
use crate::inputs::{Dimension, Inputs, MeansFacts, OrderFacts, PopulationFacts, uo_index};
use cep_domain::{Lot, WorkUnit, YearMonth};
use chrono::NaiveDate;
use polars::prelude::*;

/// Orders, populations and means as recorded (point 17; means as of the cut-off, point 16).
#[derive(Debug, Clone, Default)]
pub struct Reference {
    orders: Vec<OrderFacts>,
    populations: Vec<PopulationFacts>,
    means: Vec<MeansFacts>,
}

fn frame(columns: Vec<Column>) -> DataFrame {
    DataFrame::new_infer_height(columns).expect("columns of one length")
}

fn lot_values(rows: &[(String, Option<f64>)]) -> DataFrame {
    frame(vec![
        Column::new(
            "den_lot".into(),
            rows.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "denominator".into(),
            rows.iter().map(|(_, v)| *v).collect::<Vec<Option<f64>>>(),
        ),
    ])
}

impl Reference {
    pub fn new(inputs: &Inputs) -> Reference {
        Reference {
            orders: inputs.orders.clone(),
            populations: inputs.populations.clone(),
            means: inputs.means.clone(),
        }
    }

    /// The current order of (lot, UO) for month `m`: the order whose [start, end] contains
    /// the month's last day; among several the latest notified, then the greater reference
    /// (point 2).
    pub fn current_order(&self, lot: Lot, uo: WorkUnit, m: YearMonth) -> Option<&OrderFacts> {
        let day = m.last_day();
        self.orders
            .iter()
            .filter(|o| o.lot == lot && o.uo == uo && o.start <= day && day <= o.end)
            .max_by(|a, b| (a.notified, &a.reference).cmp(&(b.notified, &b.reference)))
    }

    /// `order_lot_n`, `order_uo_n`, `current_order_n`: every (lot, UO) that has a current
    /// order, the order as its integer in `ids` (an order no dossier names is left out: it
    /// matches nothing).
    pub fn current_orders(
        &self,
        m: YearMonth,
        ids: &std::collections::HashMap<String, i64>,
    ) -> DataFrame {
        let mut lots = Vec::new();
        let mut uos = Vec::new();
        let mut refs = Vec::new();
        for lot in Lot::all() {
            for uo in WorkUnit::ALL {
                if let Some(id) = self
                    .current_order(lot, uo, m)
                    .and_then(|o| ids.get(&o.reference))
                {
                    lots.push(i32::from(lot.number()));
                    uos.push(crate::frames::uo_number(uo));
                    refs.push(*id);
                }
            }
        }
        frame(vec![
            Column::new("order_lot_n".into(), lots),
            Column::new("order_uo_n".into(), uos),
            Column::new("current_order_n".into(), refs),
        ])
    }

    /// 1.x and 4.x: the current order's quantity per lot (lots without one are absent).
    pub fn current_quantity(&self, m: YearMonth, uo: WorkUnit) -> DataFrame {
        let rows: Vec<(String, Option<f64>)> = Lot::all()
            .filter_map(|lot| {
                let o = self.current_order(lot, uo, m)?;
                Some((lot.to_string(), Some(o.quantity as f64)))
            })
            .collect();
        lot_values(&rows)
    }

    /// 5.x: the sum of the quantities of the lot's orders of `uo` notified by `end`, for every
    /// lot — 0 when none is (the table of indicators-v1 read literally: a sum over no order is
    /// 0, so the denominator is 0 and the value null, never an empty denominator; issue 20).
    pub fn notified_quantity(&self, end: NaiveDate, uo: WorkUnit) -> DataFrame {
        let rows: Vec<(String, Option<f64>)> = Lot::all()
            .map(|lot| {
                let sum: i64 = self
                    .orders
                    .iter()
                    .filter(|o| o.lot == lot && o.uo == uo && o.notified <= end)
                    .map(|o| o.quantity)
                    .sum();
                (lot.to_string(), Some(sum as f64))
            })
            .collect();
        lot_values(&rows)
    }

    /// 7.x: FTE declared for `uo` in the lot's `MOYENS` line for the half-year (0 gives no
    /// denominator, point 16).
    pub fn fte(&self, period: Period, uo: WorkUnit) -> DataFrame {
        let p = period.to_string();
        let rows: Vec<(String, Option<f64>)> = self
            .means
            .iter()
            .filter(|m| m.period == p && m.fte_hundredths[uo_index(uo)] > 0)
            .map(|m| {
                (
                    m.lot.to_string(),
                    Some(m.fte_hundredths[uo_index(uo)] as f64 / 100.0),
                )
            })
            .collect();
        lot_values(&rows)
    }

    /// A region's population for `year`, or the latest earlier year's (point 4).
    pub fn population(
        &self,
        region: Lot,
        year: i32,
        dimension: Dimension,
        code: &str,
        value: impl Fn(&PopulationFacts) -> Option<i64>,
    ) -> Option<i64> {
        self.populations
            .iter()
            .filter(|p| {
                p.region == region && p.dimension == dimension && p.code == code && p.year <= year
            })
            .filter(|p| value(p).is_some())
            .max_by_key(|p| p.year)
            .and_then(value)
    }

    /// The national figure: the sum over the 18 regions, unknown when one of them is.
    fn national(&self, per_region: &[Option<i64>]) -> Option<f64> {
        per_region
            .iter()
            .copied()
            .sum::<Option<i64>>()
            .map(|n| n as f64)
    }

    /// 2.1 (`active`) or 2.2: per region and national.
    pub fn population_totals(&self, year: i32, active: bool) -> DataFrame {
        let value = |p: &PopulationFacts| if active { p.active } else { p.target };
        let per: Vec<Option<i64>> = Lot::regional()
            .map(|r| self.population(r, year, Dimension::Total, "", value))
            .collect();
        let mut rows: Vec<(String, Option<f64>)> = Lot::regional()
            .zip(&per)
            .map(|(r, v)| (r.to_string(), v.map(|n| n as f64)))
            .collect();
        rows.push((NATIONAL.to_owned(), self.national(&per)));
        lot_values(&rows)
    }

    /// 2.3 / 2.4: the CEP target population of each category, per region and national
    /// (`den_lot`, `den_category`, `denominator`; null where unknown).
    pub fn population_categories(
        &self,
        year: i32,
        dimension: Dimension,
        categories: &[&str],
    ) -> DataFrame {
        let mut lots = Vec::new();
        let mut cats = Vec::new();
        let mut values: Vec<Option<f64>> = Vec::new();
        for c in categories {
            let per: Vec<Option<i64>> = Lot::regional()
                .map(|r| self.population(r, year, dimension, c, |p| p.target))
                .collect();
            for (r, v) in Lot::regional().zip(&per) {
                lots.push(r.to_string());
                cats.push((*c).to_owned());
                values.push(v.map(|n| n as f64));
            }
            lots.push(NATIONAL.to_owned());
            cats.push((*c).to_owned());
            values.push(self.national(&per));
        }
        frame(vec![
            Column::new("den_lot".into(), lots),
            Column::new("den_category".into(), cats),
            Column::new("denominator".into(), values),
        ])
    }
}
