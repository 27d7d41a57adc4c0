//! `/api/v1/analyses`: start analyses of uploads, follow their progress live, read their
//! results, cancel and delete them.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use app::api::history::{BUILT_IN, HistoryFacets, HistoryQuery};

use super::extract::ApiJson;
use crate::audit;
use crate::http::error::{AppError, FieldError};
use crate::ingest::analyses::{self, Progress, Row, State as LiveState, Status};
use crate::ingest::hub::Change;
use crate::ingest::{history, jobs, projects, uploads, worker};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::{Permission, PermissionSet};
use crate::tenancy::sharing::Grants;

/// Files one analysis may read.
pub const MAX_UPLOADS: usize = 100;
/// How often a watcher rereads the database, in case a notification was missed.
const RECHECK_EVERY: Duration = Duration::from_secs(5);

/// `POST /analyses` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The uploads to analyse together.
    upload_ids: Vec<String>,
    /// A name; the first file's name by default.
    #[serde(default)]
    name: Option<String>,
    /// A finished analysis to compare with (new, gone and changed patterns).
    #[serde(default)]
    previous_analysis_id: Option<String>,
    /// The project to file it under.
    #[serde(default)]
    project_id: Option<String>,
}

/// An analysis as answered.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalysisView {
    id: String,
    name: String,
    status: Status,
    progress: Progress,
    /// Increases with every change of status or progress.
    seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    upload_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_analysis_id: Option<String>,
    created_by: String,
    created_at_ms: i64,
    /// Who sees it: `org` (everyone in the organisation), `teams` or `private`.
    visibility: String,
    /// Its files' names.
    files: Vec<String>,
    /// The project it is filed under.
    project_id: Option<String>,
    /// The worst severity among its patterns, once done.
    top_severity: Option<String>,
    /// Events read, once done.
    events: Option<i64>,
    /// The service its logs name most often, once done.
    service: Option<String>,
    /// The model that enriched it; none when the built-in engine did it all.
    model: Option<String>,
    /// What the caller may do with it.
    permissions: Vec<Permission>,
    /// The analysis page, relative to the server's address.
    web_path: String,
    started_at_ms: Option<i64>,
    finished_at_ms: Option<i64>,
    /// Totals of the result, once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    summary: Option<Box<RawValue>>,
    /// The analysis JSON (docs/analysis-format.md), once done.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    result: Option<Box<RawValue>>,
}

impl AnalysisView {
    fn of(row: Row, org_slug: &str, permissions: PermissionSet) -> Self {
        let state = row.state();
        Self {
            permissions: permissions.to_vec(),
            visibility: row.visibility.clone(),
            files: row
                .files
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            project_id: row.project_id.clone(),
            top_severity: row.top_severity.clone(),
            events: row.events,
            service: row.service.clone(),
            model: row.model.clone(),
            web_path: format!("/orgs/{org_slug}/analyses/{}", row.id),
            upload_ids: row.upload_ids(),
            summary: row.summary.and_then(|s| RawValue::from_string(s).ok()),
            id: row.id,
            name: row.name,
            status: state.status,
            progress: state.progress,
            seq: state.seq,
            error: state.error,
            previous_analysis_id: row.previous_analysis_id,
            created_by: row.created_by,
            created_at_ms: row.created_at_ms,
            started_at_ms: row.started_at_ms,
            finished_at_ms: row.finished_at_ms,
            result: None,
        }
    }
}

/// `{id, status}` of a queued analysis.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    id: String,
    status: Status,
}

/// `POST /analyses`: queues an analysis of one or more uploads; answers 202 at once.
#[utoipa::path(post, path = "/analyses", tag = "analyses", summary = "Start an analysis",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    request_body = CreateBody,
    responses(
        (status = 202, description = "Queued; follow it at `Location`", body = Accepted),
        (status = 404, description = "An upload or the previous analysis is not in this organisation", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, HeaderMap, Json<Accepted>), AppError> {
    ctx.require(Permission::CreateAnalyses)?;
    if let Some(previous) = &body.previous_analysis_id {
        authorize(&state, &ctx, previous, Permission::ViewAnalyses)
            .await
            .map_err(|e| match e {
                AppError::NotFound => AppError::Missing(format!(
                    "There is no analysis {previous} in this organisation."
                )),
                e => e,
            })?;
    }
    let mut fields = Vec::new();
    if body.upload_ids.is_empty() || body.upload_ids.len() > MAX_UPLOADS {
        fields.push(FieldError {
            field: "upload_ids",
            message: format!("Name between 1 and {MAX_UPLOADS} uploads."),
        });
    }
    let name = body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        fields.push(FieldError {
            field: "name",
            message: "Use at most 200 characters.".into(),
        });
    }
    if !fields.is_empty() {
        return Err(AppError::Invalid(fields));
    }
    let mut ids: Vec<String> = Vec::with_capacity(body.upload_ids.len());
    for id in &body.upload_ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }

    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let mut names: Vec<String> = Vec::with_capacity(ids.len());
    // An upload counts only if the caller may see it: theirs, or one of an analysis they see.
    let grants = Grants::of_caller(&mut tx, &ctx, None).await?;
    for id in &ids {
        let upload = uploads::visible(&mut tx, &ctx.org.id, &grants, uploads::Which::Id(id))
            .await?
            .pop()
            .ok_or_else(|| {
                AppError::Missing(format!("There is no upload {id} in this organisation."))
            })?;
        names.push(upload.name);
    }
    if let Some(project) = &body.project_id
        && projects::by_id(&mut tx, &ctx.org.id, project)
            .await?
            .is_none()
    {
        return Err(AppError::Missing(format!(
            "There is no project {project} in this organisation."
        )));
    }
    if let Some(previous) = &body.previous_analysis_id {
        let row = analyses::by_id(&mut tx, &ctx.org.id, previous)
            .await?
            .ok_or_else(|| {
                AppError::Missing(format!(
                    "There is no analysis {previous} in this organisation."
                ))
            })?;
        if row.status() != Status::Done {
            return Err(AppError::Conflict(
                "previous_not_done",
                "The previous analysis has not finished; compare with a finished one.".into(),
            ));
        }
    }
    let first_name = names.first().cloned().unwrap_or_default();
    let name = match (name, ids.len()) {
        (Some(n), _) => n.to_owned(),
        (None, 1) => first_name,
        (None, n) => format!("{first_name} and {} more", n - 1),
    };
    let row = Row {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: ctx.org.id.clone(),
        name,
        status: Status::Queued.as_str().into(),
        upload_ids: serde_json::to_string(&ids).unwrap_or_default(),
        previous_analysis_id: body.previous_analysis_id.clone(),
        progress: serde_json::to_string(&Progress::queued()).unwrap_or_default(),
        progress_seq: 0,
        summary: None,
        result_key: None,
        error: None,
        created_by: ctx.caller.user.id.clone(),
        created_at_ms: now,
        started_at_ms: None,
        finished_at_ms: None,
        cancel_requested: false,
        visibility: crate::tenancy::sharing::Visibility::Org.as_str().into(),
        project_id: body.project_id.clone(),
        files: names.join("\n"),
        top_severity: None,
        events: None,
        service: None,
        model: None,
    };
    analyses::insert(&mut tx, &row).await?;
    jobs::enqueue(
        &mut tx,
        &ctx.org.id,
        jobs::ANALYZE,
        &row.id,
        worker::MAX_ATTEMPTS,
        now,
    )
    .await?;
    tx.commit().await?;
    state.ingest.hub.job_queued().await;
    let mut headers = HeaderMap::new();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/analyses/{}", row.id)) {
        headers.insert(header::LOCATION, location);
    }
    Ok((
        StatusCode::ACCEPTED,
        headers,
        Json(Accepted {
            id: row.id,
            status: Status::Queued,
        }),
    ))
}

/// One page of the history.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryPage {
    /// The analyses on this page.
    items: Vec<AnalysisView>,
    /// Analyses matching, on every page.
    total: u64,
    /// This page, from 1.
    page: u64,
    /// Pages in all (at least 1).
    pages: u64,
    /// The values the filters offer.
    facets: HistoryFacets,
}

/// `GET /analyses`: the organisation's analyses that the caller may see, searched (name, file
/// names, pattern templates), filtered, sorted and paged.
#[utoipa::path(get, path = "/analyses", tag = "analyses", summary = "List and search analyses",
    params(HistoryQuery, ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "A page of analyses, without results", body = HistoryPage),
        (status = 422, description = "An unknown status, severity or preset, or a malformed date", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
    query: Result<axum::extract::Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistoryPage>, AppError> {
    let axum::extract::Query(query) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let filter = history_filter(&query, state.clock.now_ms())?;
    let per_page = query.page_size() as u64;
    let page = query.page.max(1) as u64;
    let mut tx = ctx.begin_read(&state.db).await?;
    let grants = Grants::of_caller(&mut tx, &ctx, None).await?;
    if !grants.may_view_any() {
        return Err(AppError::missing(Permission::ViewAnalyses));
    }
    let found = history::search(
        &mut tx,
        &ctx.org.id,
        &grants,
        &filter,
        query.sort,
        (page - 1).saturating_mul(per_page),
        per_page,
    )
    .await?;
    let facets = HistoryFacets {
        authors: history::authors(&mut tx, &ctx.org.id).await?,
        projects: projects::list(&mut tx, &ctx.org.id).await?,
        teams: history::teams(&mut tx, &ctx.org.id).await?,
        models: history::models(&mut tx, &ctx.org.id).await?,
    };
    tx.commit().await?;
    let items = found
        .rows
        .into_iter()
        .filter_map(|r| {
            let permissions = grants.on(&r.subject())?;
            Some(AnalysisView::of(r, &ctx.org.slug, permissions))
        })
        .collect();
    Ok(Json(HistoryPage {
        items,
        total: found.total,
        page,
        pages: found.total.div_ceil(per_page).max(1),
        facets,
    }))
}

/// The history filter `query` asks for, at `now_ms`, or what is wrong with it.
fn history_filter(query: &HistoryQuery, now_ms: i64) -> Result<history::Filter, AppError> {
    let mut fields = Vec::new();
    let words: Vec<String> = query.q.split_whitespace().map(str::to_lowercase).collect();
    if words.len() > history::MAX_WORDS {
        fields.push(FieldError {
            field: "q",
            message: format!("Search for at most {} words.", history::MAX_WORDS),
        });
    }
    let status = match query.status.as_str() {
        "" => None,
        s => match Status::parse(s) {
            parsed if parsed.as_str() == s => Some(parsed),
            _ => {
                fields.push(FieldError {
                    field: "status",
                    message: "Choose queued, running, done, failed or cancelled.".into(),
                });
                None
            }
        },
    };
    let severity = match query.severity.as_str() {
        "" => None,
        s => {
            let known = history::SEVERITIES.into_iter().find(|k| *k == s);
            if known.is_none() {
                fields.push(FieldError {
                    field: "severity",
                    message: "Choose critical, high, medium or low.".into(),
                });
            }
            known
        }
    };
    let (since_ms, until_ms) = match query.range_ms(now_ms) {
        Ok(range) => range,
        Err(message) => {
            fields.push(FieldError {
                field: if query.preset.is_empty() {
                    "since"
                } else {
                    "preset"
                },
                message,
            });
            (None, None)
        }
    };
    if !fields.is_empty() {
        return Err(AppError::Invalid(fields));
    }
    let present = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    Ok(history::Filter {
        words,
        status,
        severity,
        model: match query.model.as_str() {
            "" => None,
            BUILT_IN => Some(None),
            m => Some(Some(m.to_owned())),
        },
        author: present(&query.author),
        project: match query.project.as_str() {
            "" => None,
            "none" => Some(None),
            p => Some(Some(p.to_owned())),
        },
        team: present(&query.team),
        since_ms,
        until_ms,
    })
}

/// `PUT /analyses/{id}/project` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectBody {
    /// The project to file it under; null for none.
    project_id: Option<String>,
}

/// `PUT /analyses/{id}/project`: files an analysis under a project, or under none.
#[utoipa::path(put, path = "/analyses/{id}/project", tag = "analyses", summary = "File an analysis under a project",
    request_body = ProjectBody,
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 204, description = "Filed"),
        (status = 403, description = "Without create_analyses on it", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such analysis that you can see, or no such project", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn file_under(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProjectBody>,
) -> Result<StatusCode, AppError> {
    let analysis = authorize(&state, &ctx, &id, Permission::CreateAnalyses).await?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let project = match &body.project_id {
        None => None,
        Some(p) => Some(
            projects::by_id(&mut tx, &ctx.org.id, p)
                .await?
                .ok_or_else(|| {
                    AppError::Missing(format!("There is no project {p} in this organisation."))
                })?,
        ),
    };
    analyses::set_project(&mut tx, &ctx.org.id, &id, body.project_id.as_deref()).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "analysis.project_changed",
            &id,
            serde_json::json!({
                "name": analysis.row.name,
                "project_id": body.project_id,
                "project": project.map(|p| p.name),
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /analyses/{id}` query.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct ShowQuery {
    /// `false` leaves the result out (it can be large).
    #[serde(default = "yes")]
    result: bool,
    /// Organisation slug or id, when the credential does not imply one.
    #[allow(dead_code)]
    org: Option<String>,
}

fn yes() -> bool {
    true
}

/// `GET /analyses/{id}`: status and progress, and the result once done.
#[utoipa::path(get, path = "/analyses/{id}", tag = "analyses", summary = "Read an analysis",
    params(("id" = String, Path, description = "Analysis id"), ShowQuery),
    responses(
        (status = 200, description = "The analysis; `result` is present when `status` is done", body = AnalysisView),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<ShowQuery>,
) -> Result<Json<AnalysisView>, AppError> {
    let Authorized {
        row, permissions, ..
    } = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    let key = row.result_key.clone().filter(|_| query.result);
    let mut view = AnalysisView::of(row, &ctx.org.slug, permissions);
    if let Some(key) = key {
        let bytes = state
            .ingest
            .storage
            .get(&key)
            .await
            .map_err(|e| AppError::Unavailable(e.into()))?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored result is not UTF-8: {e}")))?;
        view.result =
            Some(RawValue::from_string(text).map_err(|e| {
                AppError::Internal(anyhow::anyhow!("stored result is not JSON: {e}"))
            })?);
    }
    Ok(Json(view))
}

/// An analysis the caller may see, with what they may do with it.
pub struct Authorized {
    /// The analysis.
    pub row: Row,
    /// What the caller may do with it (their role's permissions and any its teams add).
    pub permissions: PermissionSet,
    /// The caller's grants on it.
    pub grants: Grants,
}

/// Analysis `id` of the caller's organisation, if the caller may see it (404 otherwise, as for
/// one that does not exist) and may `need` on it (403 otherwise).
pub async fn authorize(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
    need: Permission,
) -> Result<Authorized, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let grants = Grants::of_caller(&mut tx, ctx, Some(id)).await?;
    if !grants.may_view_any() {
        return Err(AppError::missing(Permission::ViewAnalyses));
    }
    let row = analyses::by_id(&mut tx, &ctx.org.id, id).await?;
    tx.commit().await?;
    let row = row.ok_or(AppError::NotFound)?;
    let permissions = grants.on(&row.subject()).ok_or(AppError::NotFound)?;
    if !permissions.contains(need) {
        return Err(AppError::missing(need));
    }
    Ok(Authorized {
        row,
        permissions,
        grants,
    })
}

/// `POST /analyses/{id}/cancel`: stops a queued or running analysis.
#[utoipa::path(post, path = "/analyses/{id}/cancel", tag = "analyses", summary = "Cancel an analysis",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 202, description = "Cancelled, or stopping (a running analysis stops within a second)", body = LiveState),
        (status = 409, description = "It has already ended", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<LiveState>), AppError> {
    authorize(&state, &ctx, &id, Permission::CreateAnalyses).await?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let row = analyses::by_id(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.status().is_final() {
        return Err(AppError::Conflict(
            "already_ended",
            format!(
                "The analysis has already ended ({}).",
                row.status().as_str()
            ),
        ));
    }
    analyses::request_cancel(&mut tx, &ctx.org.id, &id).await?;
    let ended = if jobs::cancel_queued(&mut tx, &ctx.org.id, &id, now).await? {
        analyses::finish(
            &mut tx,
            &id,
            Status::Cancelled,
            analyses::Outcome::Nothing,
            now,
        )
        .await?
    } else {
        None
    };
    audit::append(
        &mut tx,
        &ctx.event(
            "analysis.cancelled",
            &id,
            serde_json::json!({"name": row.name}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let mut live = row.state();
    if let Some(seq) = ended {
        live = LiveState {
            status: Status::Cancelled,
            progress: Progress {
                stage: "cancelled".into(),
                ..Progress::default()
            },
            seq,
            ..live
        };
        state.ingest.hub.publish(&ctx.org.id, live.clone()).await;
    }
    Ok((StatusCode::ACCEPTED, Json(live)))
}

/// `DELETE /analyses/{id}`: removes the analysis and its result (the uploads stay). A running
/// one stops.
#[utoipa::path(delete, path = "/analyses/{id}", tag = "analyses", summary = "Delete an analysis",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    authorize(&state, &ctx, &id, Permission::DeleteAnalyses).await?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let row = analyses::by_id(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    jobs::delete_for(&mut tx, &ctx.org.id, &id).await?;
    analyses::delete(&mut tx, &ctx.org.id, &id).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "analysis.deleted",
            &id,
            serde_json::json!({"name": row.name}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    state.ingest.hub.publish_deleted(&ctx.org.id, &id).await;
    // The result object may exist even when the row has no key yet (a worker was storing it).
    let key = analyses::result_key(&ctx.org.id, &id);
    state.ingest.results.forget(&key);
    // Comparisons are keyed by the JSON of their analyses' ids (UUIDs), names and times.
    let quoted = format!("\"{id}\"");
    state
        .ingest
        .comparisons
        .forget_where(|k| k.contains(&quoted));
    if let Err(e) = state.ingest.storage.delete(&key).await {
        tracing::warn!(key, error = %e, "cannot remove a deleted analysis' result");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /analyses/{id}/events`: status and progress as server-sent events (`event: state`,
/// `id:` the sequence number, `data:` the state JSON), starting with the current state and
/// ending after a final one. A reconnecting client that sends `Last-Event-ID` gets the current
/// state only if it changed since.
#[utoipa::path(get, path = "/analyses/{id}/events", tag = "analyses", summary = "Follow an analysis live",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 200, description = "`text/event-stream` of `state` events", content_type = "text/event-stream", body = LiveState), (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope)))]
pub async fn events(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let seen: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1);
    // Subscribed before the first read, so no change falls between the two.
    let mut updates = state.ingest.hub.subscribe();
    let first = authorize(&state, &ctx, &id, Permission::ViewAnalyses)
        .await?
        .row
        .state();
    let (mut sink, stream) = futures::channel::mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        let mut seen = seen;
        let mut current = Some(first);
        let mut recheck = tokio::time::interval(RECHECK_EVERY);
        recheck.tick().await;
        loop {
            if let Some(live) = current.take() {
                let done = live.status.is_final();
                if live.seq > seen {
                    seen = live.seq;
                    let event = Event::default()
                        .event("state")
                        .id(live.seq.to_string())
                        .json_data(&live)
                        .unwrap_or_default();
                    if sink.send(Ok(event)).await.is_err() {
                        return;
                    }
                }
                // Ended, and the watcher has the final state: nothing more will come.
                if done {
                    return;
                }
            }
            tokio::select! {
                update = updates.recv() => match update {
                    Ok(update) if update.org_id == ctx.org.id => {
                        match &update.change {
                            Change::Analysis(live) if live.id == id => current = Some(live.clone()),
                            Change::AnalysisDeleted { id: gone } if *gone == id => {
                                let _ = sink.send(Ok(Event::default().event("deleted").data(&id))).await;
                                return;
                            }
                            _ => {}
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        current = reread(&state, &ctx, &id).await.ok().flatten();
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = recheck.tick() => {
                    if sink.is_closed() {
                        return;
                    }
                    match reread(&state, &ctx, &id).await {
                        Ok(Some(live)) => current = Some(live),
                        Err(e) => tracing::warn!(error = %e, "cannot reread an analysis for its watchers"),
                        Ok(None) => {
                            let _ = sink.send(Ok(Event::default().event("deleted").data(&id))).await;
                            return;
                        }
                    }
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

async fn reread(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
) -> Result<Option<LiveState>, sqlx::Error> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let row = analyses::by_id(&mut tx, &ctx.org.id, id).await?;
    tx.commit().await?;
    Ok(row.map(|r| r.state()))
}
