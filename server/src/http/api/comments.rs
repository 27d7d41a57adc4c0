//! `/api/v1/analyses/{id}/…comments…` and `/api/v1/mentions*`: threaded comments on a
//! finished analysis' patterns, followed live, and the mentions they send.
//!
//! Anyone who can see an analysis can discuss it, as themselves: an org token has no person
//! to speak for and is refused. Only a comment's author edits it; its author, or anyone who
//! may delete analyses, deletes it (audited).

use std::convert::Infallible;
use std::time::Duration;

use app::api::comments::{CommentView, Discussion, Mentions};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::SinkExt;
use serde::Deserialize;

use super::analyses::{Authorized, authorize};
use super::extract::ApiJson;
use super::patterns::finished_with;
use crate::audit;
use crate::auth::caller::Credential;
use crate::comments::{self, Directory, NewComment, Viewer};
use crate::db::Tx;
use crate::http::error::AppError;
use crate::ingest::analyses;
use crate::ingest::hub::{Change, CommentChange};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::orgs;
use crate::tenancy::permission::Permission;
use crate::tenancy::sharing::Grants;

/// How many mentions the list shows.
const MENTIONS_SHOWN: usize = 100;
/// How often a live discussion checks that its watcher is still there.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// A new comment.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommentBody {
    /// The text (at most 10,000 characters); `@name` mentions a member.
    body: String,
    /// A comment of the thread to reply to; absent to start a thread.
    #[serde(default)]
    reply_to: Option<String>,
}

/// A comment's new text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditCommentBody {
    /// The text.
    body: String,
}

/// Which discussion to follow.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this pattern's comments; all of the analysis' when absent.
    #[serde(default)]
    pattern: Option<String>,
}

fn is_person(ctx: &OrgContext) -> bool {
    match &ctx.caller.credential {
        Credential::Session { .. } => true,
        Credential::Token(token) => token.kind == "personal",
    }
}

/// The caller as a person, or 403 for org tokens.
fn person(ctx: &OrgContext) -> Result<&str, AppError> {
    if is_person(ctx) {
        Ok(&ctx.caller.user.id)
    } else {
        Err(AppError::Forbidden(
            "person_required",
            "Comments are written by people: sign in, or use a personal API token.".into(),
        ))
    }
}

fn viewer<'a>(ctx: &'a OrgContext, analysis: &Authorized) -> Viewer<'a> {
    let person = is_person(ctx);
    Viewer {
        user_id: &ctx.caller.user.id,
        is_person: person,
        can_comment: person && analysis.permissions.contains(Permission::ViewAnalyses),
        can_delete_any: analysis.permissions.contains(Permission::DeleteAnalyses),
    }
}

fn body_of(raw: &str) -> Result<String, AppError> {
    comments::clean_body(raw).map_err(|m| AppError::field("body", m))
}

/// Analysis `id`, if the caller may see it, it is finished and it has pattern `pattern`
/// (else 404).
async fn require_pattern(
    state: &AppState,
    ctx: &OrgContext,
    id: &str,
    pattern: &str,
) -> Result<Authorized, AppError> {
    let (analysis, index) = finished_with(state, ctx, id).await?;
    if index.has_pattern(pattern) {
        Ok(analysis)
    } else {
        Err(AppError::NotFound)
    }
}

/// The ids of the members `body` mentions who can see the analysis, the author left out.
async fn mentioned(
    tx: &mut Tx,
    org_id: &str,
    analysis: &analyses::Row,
    members: &[orgs::Member],
    body: &str,
    author: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut ids = Vec::new();
    for member in Directory::new(members).split(body).1 {
        if member.user_id == author {
            continue;
        }
        let grants = Grants::of_member(
            tx,
            org_id,
            &member.user_id,
            &member.role,
            Some(&analysis.id),
        )
        .await?;
        if grants.on(&analysis.subject()).is_some() {
            ids.push(member.user_id.clone());
        }
    }
    Ok(ids)
}

/// `GET /analyses/{id}/patterns/{pattern}/comments`.
#[utoipa::path(get, path = "/analyses/{id}/patterns/{pattern}/comments", tag = "comments", summary = "A pattern's discussion",
    params(("id" = String, Path, description = "Analysis id"), ("pattern" = String, Path, description = "Pattern id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Threads, oldest first, with the handles members can be mentioned by", body = Discussion),
        (status = 404, description = "No such analysis in this organisation, or no such pattern in it", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, pattern)): Path<(String, String)>,
) -> Result<Json<Discussion>, AppError> {
    let analysis = require_pattern(&state, &ctx, &id, &pattern).await?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let rows = comments::for_pattern(&mut tx, &ctx.org.id, &id, &pattern).await?;
    let members = orgs::members(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    Ok(Json(
        Directory::new(&members).discussion(&rows, &viewer(&ctx, &analysis)),
    ))
}

/// `POST /analyses/{id}/patterns/{pattern}/comments`.
#[utoipa::path(post, path = "/analyses/{id}/patterns/{pattern}/comments", tag = "comments", summary = "Comment on a pattern",
    request_body = NewCommentBody,
    params(("id" = String, Path, description = "Analysis id"), ("pattern" = String, Path, description = "Pattern id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 201, description = "Posted; the members it mentions are notified", body = CommentView),
        (status = 403, description = "An org token (`person_required`)", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such analysis, pattern or comment to reply to", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Empty or longer than 10,000 characters", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, pattern)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewCommentBody>,
) -> Result<(StatusCode, Json<CommentView>), AppError> {
    let author = person(&ctx)?;
    let body = body_of(&input.body)?;
    let analysis = require_pattern(&state, &ctx, &id, &pattern).await?;
    let now = state.clock.now_ms();
    // Time-ordered, so comments posted within one millisecond still list in order.
    let comment_id = uuid::Uuid::now_v7().to_string();
    let mut tx = ctx.begin(&state.db).await?;
    let thread_id = match input.reply_to.as_deref() {
        None => comment_id.clone(),
        Some(parent) => comments::get(&mut tx, &ctx.org.id, &id, parent)
            .await?
            .filter(|p| p.pattern_id == pattern)
            .map(|p| p.thread_id)
            .ok_or_else(|| {
                AppError::field("reply_to", "That comment is not in this discussion.")
            })?,
    };
    comments::insert(
        &mut tx,
        &NewComment {
            id: &comment_id,
            org_id: &ctx.org.id,
            analysis_id: &id,
            pattern_id: &pattern,
            thread_id: &thread_id,
            author_id: author,
            body: &body,
        },
        now,
    )
    .await?;
    let members = orgs::members(&mut tx, &ctx.org.id).await?;
    let named = mentioned(&mut tx, &ctx.org.id, &analysis.row, &members, &body, author).await?;
    comments::set_mentions(&mut tx, &ctx.org.id, &comment_id, &named, now).await?;
    let row = comments::get(&mut tx, &ctx.org.id, &id, &comment_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the new comment vanished")))?;
    tx.commit().await?;
    publish(&state, &ctx, &row, "posted").await;
    let view = Directory::new(&members).view(&row, &viewer(&ctx, &analysis));
    Ok((StatusCode::CREATED, Json(view)))
}

/// `PATCH /analyses/{id}/comments/{comment}`.
#[utoipa::path(patch, path = "/analyses/{id}/comments/{comment}", tag = "comments", summary = "Edit your comment",
    request_body = EditCommentBody,
    params(("id" = String, Path, description = "Analysis id"), ("comment" = String, Path, description = "Comment id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Edited; newly mentioned members are notified", body = CommentView),
        (status = 403, description = "Not your comment (`not_author`), or an org token", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such comment on this analysis", body = crate::http::error::ErrorEnvelope),
        (status = 409, description = "It was deleted (`deleted`)", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "Empty or too long", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, comment_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<EditCommentBody>,
) -> Result<Json<CommentView>, AppError> {
    let author = person(&ctx)?;
    let analysis = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let row = comments::get(&mut tx, &ctx.org.id, &id, &comment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.author_id.as_deref() != Some(author) {
        return Err(AppError::Forbidden(
            "not_author",
            "Only its author can edit a comment.".into(),
        ));
    }
    let body = body_of(&input.body)?;
    if !comments::edit(&mut tx, &ctx.org.id, &comment_id, &body, now).await? {
        return Err(AppError::Conflict(
            "deleted",
            "This comment was deleted.".into(),
        ));
    }
    let members = orgs::members(&mut tx, &ctx.org.id).await?;
    let named = mentioned(&mut tx, &ctx.org.id, &analysis.row, &members, &body, author).await?;
    comments::set_mentions(&mut tx, &ctx.org.id, &comment_id, &named, now).await?;
    let row = comments::get(&mut tx, &ctx.org.id, &id, &comment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    publish(&state, &ctx, &row, "edited").await;
    Ok(Json(
        Directory::new(&members).view(&row, &viewer(&ctx, &analysis)),
    ))
}

/// `DELETE /analyses/{id}/comments/{comment}`.
#[utoipa::path(delete, path = "/analyses/{id}/comments/{comment}", tag = "comments", summary = "Delete a comment",
    params(("id" = String, Path, description = "Analysis id"), ("comment" = String, Path, description = "Comment id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 204, description = "Deleted (replies under it stay)"),
        (status = 403, description = "Neither its author nor allowed to delete analyses", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such comment on this analysis", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((id, comment_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let analysis = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    let row = comments::get(&mut tx, &ctx.org.id, &id, &comment_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = is_person(&ctx) && row.author_id.as_deref() == Some(ctx.caller.user.id.as_str());
    if !own && !analysis.permissions.contains(Permission::DeleteAnalyses) {
        return Err(AppError::Forbidden(
            "not_author",
            "Only its author, or someone who may delete analyses, can delete a comment.".into(),
        ));
    }
    if !comments::delete(&mut tx, &ctx.org.id, &comment_id, now).await? {
        // Already deleted: nothing to do, nothing to record.
        return Ok(StatusCode::NO_CONTENT);
    }
    audit::append(
        &mut tx,
        &ctx.event(
            "comment.deleted",
            &comment_id,
            serde_json::json!({
                "analysis": id,
                "pattern": row.pattern_id,
                "author": row.author,
                "own": own,
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    publish(&state, &ctx, &row, "deleted").await;
    Ok(StatusCode::NO_CONTENT)
}

async fn publish(state: &AppState, ctx: &OrgContext, row: &comments::Row, action: &str) {
    state
        .ingest
        .hub
        .publish_comment(
            &ctx.org.id,
            CommentChange {
                analysis_id: row.analysis_id.clone(),
                pattern_id: row.pattern_id.clone(),
                comment_id: row.id.clone(),
                action: action.to_owned(),
            },
        )
        .await;
}

/// Whether the person behind `ctx` may still see analysis `id`, with their membership, role
/// and the analysis' sharing as they are now (not as when the stream began).
async fn still_visible(state: &AppState, ctx: &OrgContext, id: &str) -> Result<bool, AppError> {
    let user = &ctx.caller.user.id;
    let mut tx = ctx.begin_read(&state.db).await?;
    let Some(role) = orgs::role_of(&mut tx, &ctx.org.id, user).await? else {
        return Ok(false);
    };
    let grants = Grants::of_member(&mut tx, &ctx.org.id, user, &role, Some(id)).await?;
    let row = analyses::by_id(&mut tx, &ctx.org.id, id).await?;
    tx.commit().await?;
    Ok(row.is_some_and(|r| grants.on(&r.subject()).is_some()))
}

/// `GET /analyses/{id}/comments/events`: every comment posted, edited or deleted on the
/// analysis (or on one of its patterns) from now on, as server-sent events (`event: comment`,
/// `data:` which comment and what happened), for pages to refetch the discussion.
#[utoipa::path(get, path = "/analyses/{id}/comments/events", tag = "comments", summary = "Follow a discussion live",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one"), EventsQuery),
    responses(
        (status = 200, description = "`text/event-stream` of `comment` events", content_type = "text/event-stream", body = CommentChange),
        (status = 404, description = "No such analysis in this organisation", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn events(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Response, AppError> {
    // Subscribed before the check, so nothing posted in between is missed.
    let mut updates = state.ingest.hub.subscribe();
    authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    let (mut sink, stream) = futures::channel::mpsc::channel::<Result<Event, Infallible>>(16);
    let org_id = ctx.org.id.clone();
    let person = is_person(&ctx);
    tokio::spawn(async move {
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.tick().await;
        loop {
            tokio::select! {
                update = updates.recv() => match update {
                    Ok(update) if update.org_id == org_id => {
                        let Change::Comment(change) = &update.change else { continue };
                        let wanted = change.analysis_id == id
                            && query.pattern.as_ref().is_none_or(|p| *p == change.pattern_id);
                        if !wanted {
                            continue;
                        }
                        let event = Event::default().event("comment").json_data(change).unwrap_or_default();
                        if sink.send(Ok(event)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // Too slow to keep up: say so, and the page refetches once.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if sink.send(Ok(Event::default().event("resync").data(""))).await.is_err() {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = check.tick() => {
                    if sink.is_closed() {
                        return;
                    }
                    // Someone removed from the organisation, or from the analysis' audience,
                    // stops hearing about it.
                    if person {
                        match still_visible(&state, &ctx, &id).await {
                            Ok(true) => {}
                            Ok(false) => {
                                let _ = sink.send(Ok(Event::default().event("revoked").data(&id))).await;
                                return;
                            }
                            Err(e) => tracing::warn!(error = %e, "cannot recheck a discussion's watcher"),
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

/// `GET /mentions`.
#[utoipa::path(get, path = "/mentions", tag = "comments", summary = "Your mentions",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "The latest 100 comments that mention you, newest first, and how many are unread", body = Mentions),
        (status = 403, description = "An org token (`person_required`)", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn mentions(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Mentions>, AppError> {
    let user = person(&ctx)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    let grants = Grants::of_caller(&mut tx, &ctx, None).await?;
    let (items, unread) = comments::mentions_of(&mut tx, &ctx.org.id, user, MENTIONS_SHOWN, |a| {
        grants.on(a).is_some()
    })
    .await?;
    tx.commit().await?;
    Ok(Json(Mentions { items, unread }))
}

/// `POST /mentions/read`.
#[utoipa::path(post, path = "/mentions/read", tag = "comments", summary = "Mark your mentions read",
    params(("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses((status = 204, description = "All read"), (status = 403, description = "An org token (`person_required`)", body = crate::http::error::ErrorEnvelope)))]
pub async fn read_mentions(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<StatusCode, AppError> {
    let user = person(&ctx)?;
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    comments::mark_read(&mut tx, &ctx.org.id, user, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
