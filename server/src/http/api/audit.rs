//! `GET /api/v1/orgs/{org}/audit`: the audit log, filtered, as JSON or CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audit::{self, Entry, Filter};
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;

/// Query parameters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Action prefix, e.g. `auth.` or `member.role_changed`.
    action: Option<String>,
    /// Actor id.
    actor: Option<String>,
    /// From (ms since epoch).
    since: Option<i64>,
    /// Until (ms since epoch, exclusive).
    until: Option<i64>,
    /// Page backwards from this sequence number.
    before: Option<i64>,
    /// Page size (default 100, at most 1000; CSV exports up to 100,000).
    limit: Option<i64>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// Most rows one CSV export holds.
pub const MAX_EXPORT_ROWS: i64 = 100_000;

/// `GET /orgs/{org}/audit`: needs `view_audit`. A CSV export is itself audited.
#[utoipa::path(get, path = "/orgs/{org}/audit", tag = "audit", summary = "Read or export the audit log", params(("org" = String, Path, description = "Organisation slug or id"), AuditQuery), responses((status = 200, description = "Entries, newest first (or CSV with format=csv)", body = Vec<crate::audit::Entry>), (status = 403, description = "Needs view_audit", body = crate::http::error::ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(AppError::BadRequest("format must be json or csv".into())),
    };
    let mut filter = Filter {
        action: q.action,
        actor_id: q.actor,
        since_ms: q.since,
        until_ms: q.until,
        before_seq: q.before,
        limit: q.limit.unwrap_or(100),
    };
    if !csv {
        let mut tx = ctx.begin_read(&state.db).await?;
        return Ok(Json(audit::list(&mut tx, &ctx.org.id, &filter).await?).into_response());
    }
    let mut rows = Vec::new();
    let want = q.limit.unwrap_or(MAX_EXPORT_ROWS).clamp(1, MAX_EXPORT_ROWS);
    let mut tx = ctx.begin(&state.db).await?;
    while i64::try_from(rows.len()).unwrap_or(i64::MAX) < want {
        filter.limit = (want - i64::try_from(rows.len()).unwrap_or(0)).min(1000);
        let page = audit::list(&mut tx, &ctx.org.id, &filter).await?;
        let Some(last) = page.last() else { break };
        filter.before_seq = Some(last.seq);
        let short = page.len() < 1000;
        rows.extend(page);
        if short {
            break;
        }
    }
    let now = state.auth.now();
    audit::append(
        &mut tx,
        &ctx.event(
            "audit.exported",
            &ctx.org.id,
            serde_json::json!({"rows": rows.len()}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let mut response = to_csv(&rows).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-audit.csv\"",
        ctx.org.slug
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// RFC 4180 CSV, with cells that a spreadsheet would run as formulas prefixed by `'`.
pub fn to_csv(rows: &[Entry]) -> String {
    let mut out =
        String::from("seq,at_ms,actor_id,actor,action,target,ip,detail,prev_hash,hash\r\n");
    for e in rows {
        let cells = [
            e.seq.to_string(),
            e.at_ms.to_string(),
            e.actor_id.clone(),
            e.actor.clone(),
            e.action.clone(),
            e.target.clone(),
            e.ip.clone(),
            e.detail.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| crate::reports::csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}
