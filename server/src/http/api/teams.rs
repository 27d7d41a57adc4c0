//! `/api/v1/orgs/{org}/teams*`: teams and who is in them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::audit;
use crate::auth::input::parse_name;
use crate::http::error::{AppError, is_unique_violation};
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::orgs;
use crate::tenancy::permission::Permission;
use crate::tenancy::teams::{self, Team};

/// Body naming a team.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    name: String,
}

fn name_taken(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::field("name", "A team with this name already exists.")
    } else {
        e.into()
    }
}

/// `GET /orgs/{org}/teams`.
#[utoipa::path(get, path = "/orgs/{org}/teams", tag = "teams", summary = "List teams", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Teams", body = Vec<crate::tenancy::teams::Team>)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Team>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    Ok(Json(teams::list(&mut tx, &ctx.org.id).await?))
}

/// `POST /orgs/{org}/teams`.
#[utoipa::path(post, path = "/orgs/{org}/teams", tag = "teams", summary = "Create a team", request_body = NameBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 201, description = "Created", body = crate::tenancy::teams::Team), (status = 403, description = "Needs manage_team", body = crate::http::error::ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<(StatusCode, Json<Team>), AppError> {
    ctx.require(Permission::ManageTeam)?;
    let name = parse_name(&body.name).map_err(|m| AppError::field("name", m))?;
    let now = state.auth.now();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = ctx.begin(&state.db).await?;
    teams::insert(&mut tx, &ctx.org.id, &id, &name, now)
        .await
        .map_err(name_taken)?;
    audit::append(
        &mut tx,
        &ctx.event("team.created", &id, serde_json::json!({"name": name})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Team {
            id,
            name,
            created_at_ms: now,
            member_count: 0,
        }),
    ))
}

/// `PATCH /orgs/{org}/teams/{team}`.
#[utoipa::path(patch, path = "/orgs/{org}/teams/{team}", tag = "teams", summary = "Rename a team", request_body = NameBody, params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")), responses((status = 204, description = "Renamed"), (status = 403, description = "Needs manage_team", body = crate::http::error::ErrorEnvelope)))]
pub async fn rename(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let name = parse_name(&body.name).map_err(|m| AppError::field("name", m))?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    if !teams::rename(&mut tx, &ctx.org.id, &team_id, &name)
        .await
        .map_err(name_taken)?
    {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &ctx.event("team.renamed", &team_id, serde_json::json!({"name": name})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /orgs/{org}/teams/{team}`.
#[utoipa::path(delete, path = "/orgs/{org}/teams/{team}", tag = "teams", summary = "Delete a team", params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")), responses((status = 204, description = "Deleted"), (status = 403, description = "Needs manage_team", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    if !teams::delete(&mut tx, &ctx.org.id, &team_id).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &ctx.event("team.deleted", &team_id, serde_json::json!({})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A team member.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TeamMember {
    user_id: String,
    email: String,
}

/// `GET /orgs/{org}/teams/{team}/members`.
#[utoipa::path(get, path = "/orgs/{org}/teams/{team}/members", tag = "teams", summary = "List a team's members", params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id")), responses((status = 200, description = "Members of the team", body = Vec<TeamMember>)))]
pub async fn members(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team_id)): Path<(String, String)>,
) -> Result<Json<Vec<TeamMember>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    teams::get(&mut tx, &ctx.org.id, &team_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let list = teams::members(&mut tx, &ctx.org.id, &team_id).await?;
    Ok(Json(
        list.into_iter()
            .map(|(user_id, email)| TeamMember { user_id, email })
            .collect(),
    ))
}

/// `PUT /orgs/{org}/teams/{team}/members/{user}`: adds a member of the organisation.
#[utoipa::path(put, path = "/orgs/{org}/teams/{team}/members/{user}", tag = "teams", summary = "Add a member to a team", params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("user" = String, Path, description = "User id")), responses((status = 204, description = "Added"), (status = 403, description = "Needs manage_team", body = crate::http::error::ErrorEnvelope)))]
pub async fn add_member(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team_id, user_id)): Path<(String, String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    teams::get(&mut tx, &ctx.org.id, &team_id)
        .await?
        .ok_or(AppError::NotFound)?;
    orgs::role_of(&mut tx, &ctx.org.id, &user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    teams::add_member(&mut tx, &ctx.org.id, &team_id, &user_id, now).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "team.member_added",
            &team_id,
            serde_json::json!({"user": user_id}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /orgs/{org}/teams/{team}/members/{user}`.
#[utoipa::path(delete, path = "/orgs/{org}/teams/{team}/members/{user}", tag = "teams", summary = "Take a member out of a team", params(("org" = String, Path, description = "Organisation slug or id"), ("team" = String, Path, description = "Team id"), ("user" = String, Path, description = "User id")), responses((status = 204, description = "Removed"), (status = 403, description = "Needs manage_team", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, team_id, user_id)): Path<(String, String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageTeam)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    if !teams::remove_member(&mut tx, &ctx.org.id, &team_id, &user_id).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &ctx.event(
            "team.member_removed",
            &team_id,
            serde_json::json!({"user": user_id}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
