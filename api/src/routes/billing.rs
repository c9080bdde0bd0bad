//! Purchase orders, consumption, statements, billable units, reconciliation, bonuses.

use super::*;

/// The lot named in a purchase-order reference or a statement number (`…-Lot08-…`).
pub(super) fn lot_in(reference: &str) -> Option<String> {
    cep_domain::PurchaseOrderRef::find_in(reference).map(|o| o.lot().to_string())
}

/// Purchase orders as currently recorded.
pub(super) async fn orders(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/orders")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let orders = db(&state, |c| {
        Ok(cep_store::models::buyer::PurchaseOrder::all_current(c)?)
    })
    .await?;
    let items = orders
        .iter()
        .filter(|o| lot.as_deref().is_none_or(|l| o.lot == l))
        .map(|o| {
            json!({
                "reference": o.reference, "lot": o.lot, "uo": o.uo,
                "date_notification": o.date_notification, "quantite": o.quantite,
                "prix_unitaire_ht_cents": o.prix_unitaire_ht_cents, "taux_tva_bp": o.taux_tva_bp,
                "date_debut": o.date_debut, "date_fin": o.date_fin,
            })
        })
        .collect();
    q.page.respond(
        "orders",
        items,
        &[
            "reference",
            "lot",
            "uo",
            "date_notification",
            "quantite",
            "prix_unitaire_ht_cents",
            "taux_tva_bp",
            "date_debut",
            "date_fin",
        ],
    )
}

/// Consumption alerts (80 % and 100 % of an order's quantity), oldest first.
pub(super) async fn order_alerts(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/orders/alerts")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let alerts = db(&state, |c| {
        Ok(cep_store::models::buyer::OrderAlert::all(c)?)
    })
    .await?;
    let items = alerts
        .iter()
        .filter(|a| {
            lot.as_deref()
                .is_none_or(|l| lot_in(&a.order_reference).as_deref() == Some(l))
        })
        .map(|a| {
            json!({
                "order": a.order_reference, "level": a.level, "consumed": a.consumed,
                "quantity": a.quantity,
                "cutoff": utc(a.cutoff),
            })
        })
        .collect();
    q.page.respond(
        "alerts",
        items,
        &["order", "level", "consumed", "quantity", "cutoff"],
    )
}

/// Consumption statements as issued (with their body as JSON).
pub(super) async fn statements(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/statements")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let rows = db(&state, |c| {
        Ok(cep_store::models::buyer::StoredStatement::all(c)?)
    })
    .await?;
    let csv = q.page.csv()?;
    let items = rows
        .iter()
        .filter(|s| {
            lot.as_deref()
                .is_none_or(|l| lot_in(&s.number).as_deref() == Some(l))
        })
        .map(|s| {
            let body: Value = serde_json::from_str(&s.body_json).unwrap_or(Value::Null);
            let mut v = json!({
                "number": s.number, "lot": lot_in(&s.number),
                "cutoff": utc(s.cutoff),
            });
            if !csv {
                v["statement"] = body;
            }
            v
        })
        .collect();
    q.page
        .respond("statements", items, &["number", "lot", "cutoff"])
}

/// The units of the latest billing computation (one cut-off kept): repeated reads at the same
/// cut-off share it.
#[derive(Debug, Default)]
pub struct UnitsCache(
    std::sync::Mutex<
        Option<(
            chrono::NaiveDateTime,
            std::sync::Arc<Vec<cep_billing::Unit>>,
        )>,
    >,
);

/// The closed units at `cutoff` with their verdicts (billing rules of the configuration).
async fn units_at(
    state: &State,
    cutoff: chrono::NaiveDateTime,
) -> Result<std::sync::Arc<Vec<cep_billing::Unit>>, ApiError> {
    if let Some((at, units)) = state.units_cache.0.lock().expect("cache lock").as_ref()
        && *at == cutoff
    {
        return Ok(units.clone());
    }
    let rules = state.billing_rules;
    let units = db(state, move |c| {
        cep_billing::units_at(c, cutoff, rules).map_err(ApiError::from)
    })
    .await?;
    let units = std::sync::Arc::new(units);
    *state.units_cache.0.lock().expect("cache lock") = Some((cutoff, units.clone()));
    Ok(units)
}

#[derive(Debug, Deserialize)]
pub(super) struct CutoffQuery {
    lot: Option<String>,
    cutoff: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Each order's consumption at the cut-off (default: now).
pub(super) async fn order_consumption(
    state: State,
    caller: Caller,
    q: web::Query<CutoffQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/orders/consumption")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let cutoff = cutoff_param(q.cutoff.as_deref())?;
    let units = units_at(&state, cutoff).await?;
    let orders = db(&state, |c| {
        Ok(cep_store::models::buyer::PurchaseOrder::all_current(c)?)
    })
    .await?;
    let items = cep_billing::consumption(&orders, &units, cep_domain::paris::date_of(cutoff))
        .into_iter()
        .filter(|o| lot.as_deref().is_none_or(|l| o.lot == l))
        .map(|o| {
            json!({
                "reference": o.reference, "lot": o.lot, "uo": o.uo, "quantity": o.quantity,
                "consumed": o.consumed, "remaining": o.remaining,
                "unit_price_ht_cents": o.unit_price_ht_cents,
                "value_consumed_ht_cents": o.value_consumed_ht_cents, "alert": o.alert,
                "projected_exhaustion": o.projected_exhaustion, "cutoff": utc(cutoff),
            })
        })
        .collect();
    q.page.respond(
        "orders",
        items,
        &[
            "reference",
            "lot",
            "uo",
            "quantity",
            "consumed",
            "remaining",
            "unit_price_ht_cents",
            "value_consumed_ht_cents",
            "alert",
            "projected_exhaustion",
            "cutoff",
        ],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct UnitsQuery {
    lot: Option<String>,
    cutoff: Option<String>,
    /// `true` or `false`: only the billable, or only the others.
    billable: Option<String>,
    /// Only units with this reason (`INELIGIBLE`, `BC_EXHAUSTED`, …).
    reason: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Closed units at the cut-off with their verdict: billable or not and every reason, in
/// dossier order. Dossier numbers only (pseudonymous).
pub(super) async fn billing_units(
    state: State,
    caller: Caller,
    q: web::Query<UnitsQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/billing/units")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let billable = match q.billable.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(b) => {
            return Err(ApiError::BadRequest(format!(
                "billable must be true or false, got {b:?}"
            )));
        }
    };
    let cutoff = cutoff_param(q.cutoff.as_deref())?;
    let units = units_at(&state, cutoff).await?;
    let items = units
        .iter()
        .filter(|u| lot.as_deref().is_none_or(|l| u.lot.to_string() == l))
        .filter(|u| billable.is_none_or(|b| u.verdict.billable() == b))
        .filter(|u| {
            q.reason
                .as_deref()
                .is_none_or(|r| u.verdict.reasons.iter().any(|x| x.code() == r))
        })
        .map(|u| {
            let reasons: Vec<&str> = u.verdict.reasons.iter().map(|r| r.code()).collect();
            json!({
                "numero_dossier": u.numero_dossier, "lot": u.lot.to_string(),
                "uo": u.uo.column_code(), "engagement": u.engagement,
                "closure": u.closure.date, "closure_kind": match u.closure.kind {
                    cep_domain::ClosureKind::Voluntary => "voluntary",
                    cep_domain::ClosureKind::Abandonment => "abandonment",
                },
                "reference_bc": u.reference_bc, "numero_decompte": u.numero_decompte,
                "concurrent": u.concurrent, "billable": u.verdict.billable(),
                "reason": reasons.first(), "reasons": reasons.join("|"),
                "consumes": u.verdict.consumes.map(|o| o.to_string()),
            })
        })
        .collect();
    q.page.respond(
        "units",
        items,
        &[
            "numero_dossier",
            "lot",
            "uo",
            "engagement",
            "closure",
            "closure_kind",
            "reference_bc",
            "numero_decompte",
            "concurrent",
            "billable",
            "reason",
            "reasons",
            "consumes",
        ],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct QuarterQuery {
    quarter: Option<String>,
    lot: Option<String>,
    cutoff: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Reconciliation findings of a quarter at the cut-off: what the operators billed on their
/// statements (`numero_decompte`) against what is billable.
pub(super) async fn reconciliation(
    state: State,
    caller: Caller,
    q: web::Query<QuarterQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/billing/reconciliation")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let quarter = required(q.quarter.as_deref(), "quarter")?;
    let quarter: cep_domain::Quarter = quarter.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "quarter must be AAAA-Tq (e.g. 2025-T3), got {quarter:?}"
        ))
    })?;
    let cutoff = cutoff_param(q.cutoff.as_deref())?;
    let units = units_at(&state, cutoff).await?;
    let open_billed = db(&state, move |c| {
        cep_billing::units::billed_while_open(c, cutoff).map_err(ApiError::from)
    })
    .await?;
    let lot_of: std::collections::HashMap<&str, String> = units
        .iter()
        .map(|u| (u.numero_dossier.as_str(), u.lot.to_string()))
        .collect();
    let items = cep_billing::reconcile::reconcile(&units, &open_billed, quarter)
        .into_iter()
        .map(|d| {
            let l = lot_of.get(d.numero_dossier.as_str()).cloned().or_else(|| {
                d.numero_decompte
                    .as_deref()
                    .and_then(|n| n.parse::<cep_domain::StatementNumber>().ok())
                    .map(|n| n.lot().to_string())
            });
            (l, d)
        })
        .filter(|(l, _)| lot.as_deref().is_none_or(|want| l.as_deref() == Some(want)))
        .map(|(l, d)| {
            json!({
                "numero_dossier": d.numero_dossier, "lot": l,
                "numero_decompte": d.numero_decompte, "finding": d.finding.code(),
                "detail": d.detail,
            })
        })
        .collect();
    q.page.respond(
        "findings",
        items,
        &[
            "numero_dossier",
            "lot",
            "numero_decompte",
            "finding",
            "detail",
        ],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct HalfQuery {
    half: Option<String>,
    lot: Option<String>,
    cutoff: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// The quality bonus of each lot for a half-year, at the cut-off, with the configured scheme.
pub(super) async fn bonuses(
    state: State,
    caller: Caller,
    q: web::Query<HalfQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/billing/bonuses")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let half = required(q.half.as_deref(), "half")?;
    let half: cep_domain::HalfYear = half.parse().map_err(|_| {
        ApiError::BadRequest(format!("half must be AAAA-S1 or AAAA-S2, got {half:?}"))
    })?;
    let cutoff = cutoff_param(q.cutoff.as_deref())?;
    let units = units_at(&state, cutoff).await?;
    let s = state.clone();
    let bonuses = db(&state, move |c| {
        let orders = cep_store::models::buyer::PurchaseOrder::all_current(c)?;
        cep_billing::bonus::of_half(c, &s.bonus_scheme, half, &units, &orders)
            .map_err(ApiError::from)
    })
    .await?;
    let items = bonuses
        .iter()
        .filter(|b| lot.as_deref().is_none_or(|l| b.lot == l))
        .map(|b| {
            json!({
                "lot": b.lot, "half": b.half.to_string(), "scheme": b.scheme_version,
                "answers": b.answers, "satisfied": b.satisfied, "rate": b.rate,
                "wilson_lower": b.wilson_lower,
                "tier_min_rate_bp": b.tier.map(|t| t.min_rate_bp),
                "tier_bonus_bp": b.tier.map(|t| t.bonus_bp),
                "base_ht_cents": b.base_ht_cents, "bonus_ht_cents": b.bonus_ht_cents,
                "note": b.note,
            })
        })
        .collect();
    q.page.respond(
        "bonuses",
        items,
        &[
            "lot",
            "half",
            "scheme",
            "answers",
            "satisfied",
            "rate",
            "wilson_lower",
            "tier_min_rate_bp",
            "tier_bonus_bp",
            "base_ht_cents",
            "bonus_ht_cents",
            "note",
        ],
    )
}

/// The bonus scheme in force (configuration `[billing.bonus]`).
pub(super) async fn bonus_scheme(state: State, caller: Caller) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/billing/bonus-scheme")?;
    let s = &state.bonus_scheme;
    Ok(HttpResponse::Ok().json(json!({
        "version": s.version, "min_answers": s.min_answers, "use_wilson": s.use_wilson,
        "tiers": s.tiers.iter().map(|t| json!({"min_rate_bp": t.min_rate_bp, "bonus_bp": t.bonus_bp})).collect::<Vec<_>>(),
        "base_work_units": s.base_work_units.iter().map(|u| u.column_code()).collect::<Vec<_>>(),
    })))
}
