//! `/api/v1/analyses/{id}/patterns*`: a finished analysis' patterns, filtered, sorted and
//! paged on the server (so a result with tens of thousands stays quick to browse), and one
//! pattern in detail.

use std::sync::Arc;

use app::api::patterns::{
    ContextLine, ContextQuery, Overview, PatternDetail, PatternPage, PatternQuery, SampleContext,
};
use axum::Json;
use axum::extract::{Path, Query, State};

use super::analyses::{Authorized, authorize};
use crate::analysis::reader;
use crate::http::error::AppError;
use crate::ingest::analyses::{self, Status};
use crate::ingest::results::{ResultError, ResultIndex};
use crate::ingest::uploads;
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

/// Event lines of one sample shown at most (a long stack trace shows its start).
const CONTEXT_EVENT_LINES: usize = 200;
/// Characters of one context line shown.
const CONTEXT_LINE_CHARS: usize = 4000;

/// `GET /analyses/{id}/patterns/{pattern}/samples/{n}/context`: sample `n` (0-based) with the
/// lines around it, read back from its file.
#[utoipa::path(get, path = "/analyses/{id}/patterns/{pattern}/samples/{n}/context", tag = "analyses", summary = "A sample event with its surrounding lines",
    params(("id" = String, Path, description = "Analysis id"), ("pattern" = String, Path, description = "Pattern id (`p1`, …)"), ("n" = usize, Path, description = "Sample index, from 0"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), ContextQuery),
    responses(
        (status = 200, description = "The event's lines and those around it, numbered", body = SampleContext),
        (status = 400, description = "`around` is not a number", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such analysis, pattern or sample, or its file is no longer stored", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "The analysis has not finished (`not_done`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn context(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, pattern, n)): Path<(String, String, usize)>,
    query: Result<Query<ContextQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<SampleContext>, AppError> {
    let Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (row, index) = finished(&state, &ctx, &id).await?;
    let sample = index
        .pattern(&pattern)
        .and_then(|p| p.samples.get(n))
        .cloned()
        .ok_or(AppError::NotFound)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let mut stored = None;
    for upload_id in row.upload_ids() {
        if let Some(upload) = uploads::by_id(&mut tx, &ctx.org.id, &upload_id).await?
            && upload.name == sample.file
        {
            stored = Some(upload.storage_key);
            break;
        }
    }
    tx.commit().await?;
    let gone = || AppError::Missing(format!("The file {} is no longer stored.", sample.file));
    let key = stored.ok_or_else(gone)?;
    let input = state
        .ingest
        .storage
        .blocking_reader(&key)
        .await
        .map_err(|e| AppError::Unavailable(e.into()))?
        .ok_or_else(gone)?;
    let around = u64::from(query.lines());
    let (first, last) = (sample.line, sample.end_line.max(sample.line));
    let max_lines = 2 * around as usize + CONTEXT_EVENT_LINES;
    let lines =
        tokio::task::spawn_blocking(move || reader::excerpt(input, first, last, around, max_lines))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(e.into()))?;
    let cut = lines.last().is_some_and(|l| l.number < last);
    let lines = lines
        .into_iter()
        .map(|l| {
            let long = l.text.chars().count() > CONTEXT_LINE_CHARS;
            ContextLine {
                number: l.number,
                event: (first..=last).contains(&l.number),
                truncated: l.truncated || long,
                text: if long {
                    l.text.chars().take(CONTEXT_LINE_CHARS).collect()
                } else {
                    l.text
                },
            }
        })
        .collect();
    Ok(Json(SampleContext {
        file: sample.file,
        line: first,
        end_line: last,
        lines,
        cut,
    }))
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
