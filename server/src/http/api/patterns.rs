//! `/api/v1/analyses/{id}/patterns*`: a finished analysis' patterns, filtered, sorted and
//! paged on the server (so a result with tens of thousands stays quick to browse), and one
//! pattern in detail.

use std::sync::Arc;

use app::api::patterns::{Overview, PatternDetail, PatternPage, PatternQuery};
use axum::Json;
use axum::extract::{Path, Query, State};

use super::analyses::{Authorized, authorize};
use crate::http::error::AppError;
use crate::ingest::analyses::{self, Status};
use crate::ingest::results::{ResultError, ResultIndex};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::Permission;

/// `GET /analyses/{id}/overview`: files, the largest error families and events over time.
#[utoipa::path(get, path = "/analyses/{id}/overview", tag = "analyses", summary = "An analysis at a glance",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Files, families and the timeline", body = Overview),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn overview(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
) -> Result<Json<Overview>, AppError> {
    Ok(Json(result(&state, &ctx, &id).await?.overview()))
}

/// `GET /analyses/{id}/patterns`: one page (50 rows) of the patterns the filters keep.
#[utoipa::path(get, path = "/analyses/{id}/patterns", tag = "analyses", summary = "Browse an analysis' patterns",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), PatternQuery),
    responses(
        (status = 200, description = "One page, with the number matched and the values to filter by", body = PatternPage),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    Query(query): Query<PatternQuery>,
) -> Result<Json<PatternPage>, AppError> {
    let index = result(&state, &ctx, &id).await?;
    Ok(Json(index.page(&query)))
}

/// `GET /analyses/{id}/patterns/{pattern}`: everything about one pattern.
#[utoipa::path(get, path = "/analyses/{id}/patterns/{pattern}", tag = "analyses", summary = "One pattern in detail",
    params(("id" = String, Path, description = "Analysis id"), ("pattern" = String, Path, description = "Pattern id (`p1`, …)"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "The pattern with its timeline, family and chains", body = PatternDetail),
        (status = 404, description = "No such analysis in this organisation, or no such pattern in it", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, pattern)): Path<(String, String)>,
) -> Result<Json<PatternDetail>, AppError> {
    let index = result(&state, &ctx, &id).await?;
    index.detail(&pattern).map(Json).ok_or(AppError::NotFound)
}

/// The parsed result of analysis `id` of the caller's organisation.
async fn result(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
) -> Result<Arc<ResultIndex>, AppError> {
    Ok(finished(state, ctx, id).await?.1)
}

/// Finished analysis `id` of the caller's organisation with its parsed result: 404 when there
/// is none (or the caller may not see it), 409 while it is not done.
pub(super) async fn finished(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
) -> Result<(analyses::Row, Arc<ResultIndex>), AppError> {
    let (analysis, index) = finished_with(state, ctx, id).await?;
    Ok((analysis.row, index))
}

/// As [`finished`], with what the caller may do with the analysis.
pub(super) async fn finished_with(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
) -> Result<(Authorized, Arc<ResultIndex>), AppError> {
    let analysis = authorize(state, ctx, id, Permission::ViewAnalyses).await?;
    let row = &analysis.row;
    let key = match (row.status(), row.result_key.clone()) {
        (Status::Done, Some(key)) => key,
        (status, _) => {
            return Err(AppError::Conflict(
                "not_done",
                format!(
                    "The analysis has no patterns to show: it is {}.",
                    status.as_str()
                ),
            ));
        }
    };
    let index = state
        .ingest
        .results
        .get(&state.ingest.storage, &key)
        .await
        .map_err(|e| match e {
            ResultError::Storage(e) => AppError::Unavailable(e.into()),
            ResultError::Damaged(_) => AppError::Internal(e.into()),
        })?;
    Ok((analysis, index))
}
