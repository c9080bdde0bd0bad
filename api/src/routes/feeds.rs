//! Operators' feeds, their processing reports and the anomalies found.

use super::*;

#[derive(Debug, Deserialize)]
pub(super) struct ReportQuery {
    lot: Option<String>,
    #[serde(flatten)]
    page: Page,
}

/// Processing reports, newest first. Analysts and administrators get the counts only (an
/// anomaly's message may quote a personal value); an operator gets its own lot's reports in
/// full.
pub(super) async fn reports(
    state: State,
    caller: Caller,
    q: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/reports")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let full = caller.role() == Role::Operator;
    let rows = db(&state, move |c| {
        Ok(cep_store::models::ingest::ProcessingReportRow::list(
            c,
            lot.as_deref(),
        )?)
    })
    .await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let report: Value = serde_json::from_str(&r.report_json).unwrap_or(Value::Null);
            if full {
                report
            } else {
                json!({
                    "file": r.file_name, "lot": r.lot, "status": r.status,
                    "sha256": report["sha256"],
                    "created_at": utc(r.created_at),
                    "lines": report["lines"], "accepted": report["accepted"],
                    "quarantined": report["quarantined"], "warnings": report["warnings"],
                })
            }
        })
        .collect();
    q.page.respond(
        "reports",
        items,
        &[
            "file",
            "lot",
            "status",
            "created_at",
            "lines",
            "accepted",
            "quarantined",
            "warnings",
        ],
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct FeedQuery {
    /// For CSV bodies: the feed file name (`CEP_L{ll}_{KIND}_{AAAAMMJJ}_{nn}.csv`).
    file_name: Option<String>,
    /// Validation only (recette): the same checks and report, nothing kept.
    #[serde(default)]
    dry_run: bool,
}

/// An operator pushes a feed (spec §5): JSON (`application/json`) or CSV (`text/csv` with
/// `?file_name=`), for its own lot; the answer is the processing report.
pub(super) async fn feed(
    state: State,
    caller: Caller,
    req: HttpRequest,
    kind: web::Path<String>,
    q: web::Query<FeedQuery>,
    limit: web::Data<BodyLimit>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "POST", "/api/v1/feeds/{kind}")?;
    let kind = kind.into_inner();
    let kind = cep_ingest::FeedKind::parse(&kind.to_uppercase()).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no feed kind {kind:?} (dossiers, reclamations, moyens)"
        ))
    })?;
    let lot = cep_domain::Lot::parse(caller.lot().expect("operator"))
        .map_err(|_| ApiError::Forbidden("the token's lot is not a lot".into()))?;
    let content_type = req
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let json = content_type.starts_with("application/json");
    if !json && !content_type.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/json or text/csv".into(),
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit.0 {
            return Err(ApiError::PayloadTooLarge(format!(
                "at most {} bytes per request; split the feed",
                limit.0
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let file_name = if json {
        format!(
            "api_L{lot}_{}_{}.json",
            kind.as_str(),
            crate::auth::random_hex(6)
        )
    } else {
        let name = q.file_name.clone().ok_or_else(|| {
            ApiError::BadRequest(
                "a CSV body needs ?file_name=CEP_L{ll}_{KIND}_{AAAAMMJJ}_{nn}.csv".into(),
            )
        })?;
        if name.contains('/') || name.contains('\\') || name.contains("..") {
            return Err(ApiError::BadRequest(
                "file_name must be a bare file name".into(),
            ));
        }
        name
    };
    let sub = cep_ingest::Submission {
        file_name,
        lot,
        channel: cep_ingest::Channel::Api,
        received_at: None,
        json_kind: json.then_some(kind),
    };
    let state2 = state.clone();
    if q.dry_run {
        // Point 28's answer too, with nothing kept: 200 with the report, or 422 when the whole
        // body would be rejected.
        let report = web::block(move || state2.ingestor.check_bytes(&body, &sub)).await??;
        let mut v = serde_json::to_value(&report)
            .map_err(|e| ApiError::Internal(format!("writing the report: {e}")))?;
        v["dry_run"] = json!(true);
        return Ok(if report.status == cep_ingest::Status::Rejected {
            HttpResponse::UnprocessableEntity()
                .content_type("application/problem+json")
                .json(json!({
                    "type": "https://cep.francecompetences.fr/problems/feed-rejected",
                    "title": "Feed would be rejected whole (validation only, nothing kept)",
                    "status": 422,
                    "detail": "validation only: the feed would be rejected whole",
                    "report": v,
                }))
        } else {
            HttpResponse::Ok().json(v)
        });
    }
    let report = web::block(move || state2.ingestor.ingest_bytes(&body, &sub)).await??;
    if report.status == cep_ingest::Status::Rejected {
        // Point 28: a body rejected whole is a 422, a problem document carrying the report.
        let reasons: Vec<&str> = report
            .anomalies
            .iter()
            .filter(|a| a.line.is_none())
            .map(|a| a.code.as_str())
            .collect();
        return Ok(HttpResponse::UnprocessableEntity()
            .content_type("application/problem+json")
            .json(json!({
                "type": "https://cep.francecompetences.fr/problems/feed-rejected",
                "title": "Feed rejected whole, nothing applied",
                "status": 422,
                "detail": format!("rejected: {}", reasons.join(", ")),
                "report": report,
            })));
    }
    Ok(HttpResponse::Ok().json(report))
}
/// Anomalies counted by lot, code and severity.
pub(super) async fn anomalies(
    state: State,
    caller: Caller,
    q: web::Query<LotQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/anomalies")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?;
    let rows = db(&state, |c| Ok(access::AnomalyCount::all(c)?)).await?;
    let items = rows
        .iter()
        .filter(|a| lot.as_deref().is_none_or(|l| a.lot.as_deref() == Some(l)))
        .map(|a| json!({"lot": a.lot, "code": a.code, "severity": a.severity, "count": a.count}))
        .collect();
    q.page
        .respond("anomalies", items, &["lot", "code", "severity", "count"])
}

#[derive(Debug, Deserialize)]
pub(super) struct MonitoringQuery {
    lot: Option<String>,
    /// The day (Europe/Paris), `AAAA-MM-JJ`; default today.
    day: Option<chrono::NaiveDate>,
}

/// Feed monitoring (Annex 3 §2): for a day, each lot's `DOSSIERS` feeds and whether they are
/// missing, late (first after 20:00 Paris) or much smaller than usual (under half the median of
/// the previous 28 days with a feed). An operator sees its own lot.
pub(super) async fn feed_monitoring(
    state: State,
    caller: Caller,
    q: web::Query<MonitoringQuery>,
) -> Result<HttpResponse, ApiError> {
    allow(&caller, "GET", "/api/v1/monitoring/feeds")?;
    let q = q.into_inner();
    let lot = lot_scope(&caller, q.lot.as_deref())?.filter(|l| l != "national");
    let day = q
        .day
        .unwrap_or_else(|| cep_domain::paris::date_of(now_utc()));
    let days = db(&state, move |c| {
        Ok(cep_ingest::monitor::feeds_of_day(c, day)?)
    })
    .await?;
    let items: Vec<&cep_ingest::monitor::LotFeedDay> = days
        .iter()
        .filter(|d| lot.as_deref().is_none_or(|l| d.lot == l))
        .collect();
    let flagged = items
        .iter()
        .filter(|d| d.missing || d.late || d.small)
        .count();
    Ok(HttpResponse::Ok().json(json!({
        "day": day,
        "deadline_hour": cep_domain::feed_watch::DEADLINE_HOUR,
        "small_share": cep_domain::feed_watch::SMALL_SHARE,
        "flagged": flagged,
        "lots": items,
    })))
}
