//! `/api/v1/orgs/{org}/roles*`: the built-in roles and the organisation's custom roles.

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
use crate::tenancy::permission::{BuiltinRole, Permission, PermissionSet};
use crate::tenancy::roles::{self, CustomRole};

/// A role as listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleView {
    /// The key to assign: a built-in name or the custom role's id.
    key: String,
    name: String,
    builtin: bool,
    permissions: Vec<Permission>,
}

impl From<CustomRole> for RoleView {
    fn from(r: CustomRole) -> Self {
        Self {
            key: r.id,
            name: r.name,
            builtin: false,
            permissions: PermissionSet::from_db(&r.permissions).to_vec(),
        }
    }
}

/// `GET /orgs/{org}/roles`: built-in roles first, then custom ones by name.
#[utoipa::path(get, path = "/orgs/{org}/roles", tag = "roles", summary = "List roles", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Built-in roles, then custom roles", body = Vec<RoleView>)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<RoleView>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let custom = roles::list(&mut tx, &ctx.org.id).await?;
    let builtin = BuiltinRole::ALL.into_iter().map(|r| RoleView {
        key: r.key().to_owned(),
        name: r.key().to_owned(),
        builtin: true,
        permissions: r.permissions().to_vec(),
    });
    Ok(Json(
        builtin
            .chain(custom.into_iter().map(RoleView::from))
            .collect(),
    ))
}

/// Body of `POST` and `PATCH`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleBody {
    name: String,
    permissions: Vec<String>,
}

fn parse_body(
    ctx: &OrgContext,
    body: &CustomRoleBody,
) -> Result<(String, PermissionSet), AppError> {
    let name = parse_name(&body.name).map_err(|m| AppError::field("name", m))?;
    if BuiltinRole::parse(&name.to_lowercase()).is_some() {
        return Err(AppError::field(
            "name",
            "That name belongs to a built-in role.",
        ));
    }
    let permissions = PermissionSet::parse_names(&body.permissions)
        .map_err(|m| AppError::field("permissions", m))?;
    if !permissions.is_subset(ctx.permissions) {
        return Err(AppError::Forbidden(
            "escalation",
            "You cannot grant permissions you do not hold.".into(),
        ));
    }
    Ok((name, permissions))
}

fn name_taken(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::field("name", "A role with this name already exists.")
    } else {
        e.into()
    }
}

/// `POST /orgs/{org}/roles`: a custom role.
#[utoipa::path(post, path = "/orgs/{org}/roles", tag = "roles", summary = "Create a custom role", request_body = CustomRoleBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 201, description = "Created", body = RoleView), (status = 403, description = "Needs manage_members, or grants more than you hold", body = crate::http::error::ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<CustomRoleBody>,
) -> Result<(StatusCode, Json<RoleView>), AppError> {
    ctx.require(Permission::ManageMembers)?;
    let (name, permissions) = parse_body(&ctx, &body)?;
    let now = state.auth.now();
    let role = CustomRole {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        permissions: permissions.to_db(),
        created_at_ms: now,
    };
    let mut tx = ctx.begin(&state.db).await?;
    roles::insert(&mut tx, &ctx.org.id, &role)
        .await
        .map_err(name_taken)?;
    let detail = serde_json::json!({"name": role.name, "permissions": role.permissions});
    audit::append(&mut tx, &ctx.event("role.created", &role.id, detail), now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// `PATCH /orgs/{org}/roles/{role}`: rename and replace the permissions.
#[utoipa::path(patch, path = "/orgs/{org}/roles/{role}", tag = "roles", summary = "Edit a custom role", request_body = CustomRoleBody, params(("org" = String, Path, description = "Organisation slug or id"), ("role" = String, Path, description = "Custom role id")), responses((status = 200, description = "Saved", body = RoleView), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, role_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CustomRoleBody>,
) -> Result<Json<RoleView>, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let (name, permissions) = parse_body(&ctx, &body)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    let before = roles::get(&mut tx, &ctx.org.id, &role_id)
        .await?
        .ok_or(AppError::NotFound)?;
    roles::update(&mut tx, &ctx.org.id, &role_id, &name, &permissions.to_db())
        .await
        .map_err(name_taken)?;
    let detail =
        serde_json::json!({"name": name, "from": before.permissions, "to": permissions.to_db()});
    audit::append(&mut tx, &ctx.event("role.updated", &role_id, detail), now).await?;
    tx.commit().await?;
    Ok(Json(
        CustomRole {
            name,
            permissions: permissions.to_db(),
            ..before
        }
        .into(),
    ))
}

/// `DELETE /orgs/{org}/roles/{role}`: only when no member or open invitation uses it.
#[utoipa::path(delete, path = "/orgs/{org}/roles/{role}", tag = "roles", summary = "Delete a custom role", params(("org" = String, Path, description = "Organisation slug or id"), ("role" = String, Path, description = "Custom role id")), responses((status = 204, description = "Deleted"), (status = 409, description = "Still in use", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, role_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    roles::get(&mut tx, &ctx.org.id, &role_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let used = roles::usage(&mut tx, &ctx.org.id, &role_id).await?;
    if used > 0 {
        return Err(AppError::Conflict(
            "role_in_use",
            format!("{used} members or invitations use this role; give them another role first."),
        ));
    }
    roles::delete(&mut tx, &ctx.org.id, &role_id).await?;
    audit::append(
        &mut tx,
        &ctx.event("role.deleted", &role_id, serde_json::json!({})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
