//! Indicator runs and their values, time series and drill-downs.

use super::*;
use cep_store::models::indicators::IndicatorValueRow;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub(super) struct IndicatorQuery {
    run: Option<i64>,
    period: Option<String>,
    code: Option<String>,
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

pub(super) fn run_json(r: &IndicatorRun) -> Value {
    json!({
        "id": r.id,
        "period": r.period,
        "cutoff": utc(r.cutoff),
        "computed_at": utc(r.computed_at),
        "code_version": r.code_version,
    })
}

/// The stored runs (newest first), from memory when read less than the TTL ago.
async fn stored_runs(state: &State) -> Result<Arc<Vec<IndicatorRun>>, ApiError> {
    if let Some(runs) = state.run_list.fresh(state.ttl) {
        return Ok(runs);
    }
    let s = state.clone();
    db(state, move |c| Ok(s.run_list.read(c)?)).await
}

/// A run's values, from memory after the first read (runs never change).
async fn run_values(
    state: &State,
    run: &IndicatorRun,
) -> Result<Arc<Vec<IndicatorValueRow>>, ApiError> {
    if let Some(v) = state.run_cache.cached(run.id) {
        return Ok(v);
    }
    let (s, run) = (state.clone(), run.clone());
    db(state, move |c| Ok(s.run_cache.values(c, &run)?)).await
}

/// The run asked for: by id, else the latest of the period, else the latest.
async fn find_run(
    state: &State,
    id: Option<i64>,
    period: Option<&str>,
) -> Result<IndicatorRun, ApiError> {
    let runs = stored_runs(state).await?;
    match (id, period) {
        (Some(id), _) => runs.iter().find(|r| r.id == id),
        (None, Some(p)) => runs.iter().find(|r| r.period == p),
        (None, None) => runs.first(),
    }
    .cloned()
    .ok_or_else(|| ApiError::NotFound("no such indicator run".into()))
}

fn value_json(v: &IndicatorValueRow) -> Value {
    json!({
        "code": v.code, "lot": v.lot, "category": v.category,
        "numerator": v.numerator, "denominator": v.denominator, "value": v.value,
        "median": v.median, "mean": v.mean, "wilson_lower": v.wilson_lower,
    })
}

const VALUE_COLUMNS: &[&str] = &[
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

/// A stored indicator run's values (the latest run of the period unless `run` is given),
/// filtered by code and lot, in (code, lot, category) order. Served from memory once read.
pub(super) async fn indicators(
    state: State,
    caller: Caller,
    q: web::Query<IndicatorQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let run = find_run(&state, q.run, q.period.as_deref()).await?;
    let values = run_values(&state, &run).await?;
    let values: Vec<Value> = values
        .iter()
        .filter(|v| q.code.as_deref().is_none_or(|c| v.code == c))
        .filter(|v| lot.as_deref().is_none_or(|l| v.lot == l))
        .map(value_json)
        .collect();
    if q.page.csv()? {
        return q.page.respond("values", values, VALUE_COLUMNS);
    }
    let (total, values) = q.page.apply(values);
    Ok(HttpResponse::Ok().json(json!({"run": run_json(&run), "total": total, "values": values})))
}

pub(super) async fn indicator_runs(
    state: State,
    caller: Caller,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators/runs")?;
    let runs = stored_runs(&state).await?;
    page.respond(
        "runs",
        runs.iter().map(run_json).collect(),
        &["id", "period", "cutoff", "computed_at", "code_version"],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct SeriesQuery {
    code: Option<String>,
    lot: Option<String>,
    #[serde(default)]
    category: String,
    /// Only runs with a cut-off at or before this time (RFC 3339): the series as it was known.
    cutoff: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// One indicator of one lot (or `national`) over the periods: for each period, the latest
/// stored run (with a cut-off at or before `cutoff` when given), in period order.
pub(super) async fn indicator_series(
    state: State,
    caller: Caller,
    q: web::Query<SeriesQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators/series")?;
    let q = q.into_inner();
    let code = required(q.code.as_deref(), "code")?;
    let lot = lot_scope(&caller, q.lot.as_deref())?.unwrap_or_else(|| "national".into());
    let until = q
        .cutoff
        .as_deref()
        .map(|t| cutoff_param(Some(t)))
        .transpose()?;
    let runs = stored_runs(&state).await?;
    // Newest first: the first run seen of a period is its latest.
    let mut latest: std::collections::BTreeMap<&str, &IndicatorRun> = Default::default();
    for r in runs.iter().filter(|r| until.is_none_or(|u| r.cutoff <= u)) {
        latest.entry(r.period.as_str()).or_insert(r);
    }
    let mut items = Vec::new();
    for run in latest.values() {
        let values = run_values(&state, run).await?;
        if let Some(v) = values
            .iter()
            .find(|v| v.code == code && v.lot == lot && v.category == q.category)
        {
            let mut item = value_json(v);
            item["period"] = json!(run.period);
            item["run"] = json!(run.id);
            item["cutoff"] = json!(utc(run.cutoff));
            items.push(item);
        }
    }
    let mut columns = vec!["period", "run", "cutoff"];
    columns.extend_from_slice(VALUE_COLUMNS);
    q.page.respond("series", items, &columns)
}

#[derive(Debug, Deserialize)]
pub(super) struct DrillQuery {
    run: Option<i64>,
    period: Option<String>,
    code: Option<String>,
    lot: Option<String>,
    #[serde(default)]
    category: String,
    /// `numerator` (default) or `denominator`.
    part: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// The items (dossier numbers; complaint references for 8.7) behind one value of a stored run,
/// recomputed as of the run's cut-off by the indicators engine. An operator drills into its
/// own lot only.
pub(super) async fn indicator_drill(
    state: State,
    caller: Caller,
    q: web::Query<DrillQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/indicators/drill")?;
    let q = q.into_inner();
    let code = required(q.code.as_deref(), "code")?.to_owned();
    let lot = lot_scope(&caller, q.lot.as_deref())?.unwrap_or_else(|| "national".into());
    let denominator = match q.part.as_deref() {
        None | Some("numerator") => false,
        Some("denominator") => true,
        Some(p) => {
            return Err(ApiError::BadRequest(format!(
                "part must be numerator or denominator, got {p:?}"
            )));
        }
    };
    let Some(engine) = state.drill.clone() else {
        return Err(ApiError::NotImplemented(
            "this server has no indicators engine for drill-downs (cep serve has one)".into(),
        ));
    };
    let run = find_run(&state, q.run, q.period.as_deref()).await?;
    let store = state.store.clone();
    let (code2, category, run2, lot2) =
        (code.clone(), q.category.clone(), run.clone(), lot.clone());
    let drilled =
        web::block(move || engine.drill(&store, &run2, &code2, &lot2, &category, denominator))
            .await?
            .map_err(ApiError::BadRequest)?;
    match drilled {
        crate::Drilled::External(what) => Ok(HttpResponse::Ok().json(json!({
            "run": run_json(&run), "code": code, "lot": lot, "category": q.category,
            "part": if denominator { "denominator" } else { "numerator" },
            "counted": false, "what": what,
        }))),
        crate::Drilled::Items(items) => {
            // An operator sees its own lot's dossiers only: a regional value (2.x, 3) also
            // counts the dossiers lot 19 opened in the region, which are another lot's.
            let regional = cep_domain::indicator::Indicator::of(&code).is_some_and(|i| i.by_region);
            let items = match (caller.role(), caller.lot()) {
                (Role::Operator, Some(own)) if regional => {
                    let own = own.to_owned();
                    db(&state, move |c| {
                        let lots = cep_store::models::dossiers::Dossier::lots_of(c, &items)?;
                        Ok(items
                            .into_iter()
                            .filter(|i| lots.get(i).is_some_and(|l| *l == own))
                            .collect::<Vec<_>>())
                    })
                    .await?
                }
                _ => items,
            };
            let items: Vec<Value> = items.into_iter().map(|i| json!({"item": i})).collect();
            if q.page.csv()? {
                return q.page.respond("items", items, &["item"]);
            }
            let (total, items) = q.page.apply(items);
            Ok(HttpResponse::Ok().json(json!({
                "run": run_json(&run), "code": code, "lot": lot, "category": q.category,
                "part": if denominator { "denominator" } else { "numerator" },
                "counted": true, "total": total, "items": items,
            })))
        }
    }
}
