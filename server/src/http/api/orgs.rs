//! `/api/v1/orgs*`: organisations, their members, roles of members and ownership.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::audit;
use crate::auth::account;
use crate::auth::caller::Caller;
use crate::auth::input::{OrgSlug, parse_name};
use crate::db::Scope;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::{OrgContext, role_permissions};
use crate::tenancy::orgs::{self, Member, Org};
use crate::tenancy::permission::{BuiltinRole, Permission};

/// An organisation with the caller's role and permissions in it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgView {
    #[serde(flatten)]
    org: Org,
    role: String,
    permissions: Vec<Permission>,
}

impl From<&OrgContext> for OrgView {
    fn from(ctx: &OrgContext) -> Self {
        Self {
            org: ctx.org.clone(),
            role: ctx.role.clone(),
            permissions: ctx.permissions.to_vec(),
        }
    }
}

/// `GET /orgs`: the caller's organisations.
#[utoipa::path(get, path = "/orgs", tag = "organisations", summary = "List your organisations", responses((status = 200, description = "Your organisations with your role", body = Vec<Object>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<serde_json::Value>>, AppError> {
    let mut tx = state.db.begin_read(Scope::System).await?;
    let token_org = match &caller.credential {
        crate::auth::caller::Credential::Token(t) => Some(t.org_id.clone()),
        crate::auth::caller::Credential::Session { .. } => None,
    };
    let list: Vec<_> = orgs::for_user(&mut tx, &caller.user.id)
        .await?
        .into_iter()
        .filter(|(o, _)| token_org.as_ref().is_none_or(|id| *id == o.id))
        .collect();
    Ok(Json(list.into_iter().map(|(org, role)| serde_json::json!({"id": org.id, "slug": org.slug, "name": org.name, "role": role})).collect()))
}

/// `POST /orgs` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgBody {
    name: String,
    #[serde(default)]
    slug: Option<String>,
}

/// `POST /orgs`: a new organisation owned by the caller.
#[utoipa::path(post, path = "/orgs", tag = "organisations", summary = "Create an organisation", request_body = CreateOrgBody, responses((status = 201, description = "Created; you own it", body = crate::tenancy::orgs::Org), (status = 422, description = "Invalid name or slug", body = crate::http::error::ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateOrgBody>,
) -> Result<(StatusCode, Json<Org>), AppError> {
    caller.session_id()?;
    let name = parse_name(&body.name).map_err(|m| AppError::field("name", m))?;
    let slug = body
        .slug
        .as_deref()
        .map(OrgSlug::parse)
        .transpose()
        .map_err(|m| AppError::field("slug", m))?;
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let org = account::create_org(&mut tx, &caller.user.id, &name, slug, now).await?;
    let event = caller.event(
        &org.id,
        "org.created",
        &org.id,
        serde_json::json!({"slug": org.slug}),
    );
    audit::append(&mut tx, &event, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// `GET /orgs/{org}`.
#[utoipa::path(get, path = "/orgs/{org}", tag = "organisations", summary = "Show an organisation", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "The organisation with your role and permissions", body = OrgView), (status = 404, description = "No such organisation, or not yours", body = crate::http::error::ErrorEnvelope)))]
pub async fn show(ctx: OrgContext) -> Json<OrgView> {
    Json((&ctx).into())
}

/// `PATCH /orgs/{org}` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    name: Option<String>,
    require_mfa: Option<bool>,
}

/// `PATCH /orgs/{org}`: rename, or require MFA of every member (needs `manage_members`).
#[utoipa::path(patch, path = "/orgs/{org}", tag = "organisations", summary = "Rename or require MFA", request_body = UpdateBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Saved", body = crate::tenancy::orgs::Org), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Org>, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let name = match body.name {
        Some(n) => parse_name(&n).map_err(|m| AppError::field("name", m))?,
        None => ctx.org.name.clone(),
    };
    let require_mfa = body.require_mfa.unwrap_or(ctx.org.require_mfa);
    if require_mfa && !ctx.caller.user.has_mfa() {
        return Err(AppError::field(
            "require_mfa",
            "Turn on two-factor authentication for your own account first, or you would lock yourself out.",
        ));
    }
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    orgs::update(&mut tx, &ctx.org.id, &name, require_mfa).await?;
    let detail = serde_json::json!({"name": name, "require_mfa": require_mfa});
    audit::append(&mut tx, &ctx.event("org.updated", &ctx.org.id, detail), now).await?;
    tx.commit().await?;
    Ok(Json(Org {
        name,
        require_mfa,
        ..ctx.org
    }))
}

/// `DELETE /orgs/{org}` body: the slug, typed again.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBody {
    confirm: String,
}

/// `DELETE /orgs/{org}`: owner only, confirmed by the slug; removes all its data.
#[utoipa::path(delete, path = "/orgs/{org}", tag = "organisations", summary = "Delete an organisation", request_body = DeleteBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 204, description = "Deleted with all its data"), (status = 403, description = "Owner only", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Confirmation does not match the slug", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<DeleteBody>,
) -> Result<StatusCode, AppError> {
    ctx.require_owner()?;
    if body.confirm != ctx.org.slug {
        return Err(AppError::field(
            "confirm",
            format!("Type {} to confirm.", ctx.org.slug),
        ));
    }
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let mut objects = crate::ingest::uploads::keys_of_org(&mut tx, &ctx.org.id).await?;
    objects.extend(crate::ingest::analyses::keys_of_org(&mut tx, &ctx.org.id).await?);
    orgs::delete(&mut tx, &ctx.org.id).await?;
    // The organisation's own chain goes with it; the deletion is recorded on the instance chain.
    let mut event = ctx.event(
        "org.deleted",
        &ctx.org.id,
        serde_json::json!({"slug": ctx.org.slug, "name": ctx.org.name}),
    );
    event.org_id = String::new();
    audit::append(&mut tx, &event, now).await?;
    tx.commit().await?;
    // The rows are gone; their files follow (one that cannot be removed is logged, and is
    // unreachable without its row).
    for key in objects {
        if let Err(e) = state.ingest.storage.delete(&key).await {
            tracing::warn!(key, error = %e, "cannot remove a deleted organisation's file");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /orgs/{org}/members`.
#[utoipa::path(get, path = "/orgs/{org}/members", tag = "members", summary = "List members", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Members", body = Vec<crate::tenancy::orgs::Member>)))]
pub async fn members(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Member>>, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    Ok(Json(orgs::members(&mut tx, &ctx.org.id).await?))
}

/// `PATCH /orgs/{org}/members/{user}` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRoleBody {
    role: String,
}

/// `PATCH /orgs/{org}/members/{user}`: gives a member another role. Nobody can grant more
/// than they hold, and the owner's role changes only by transfer.
#[utoipa::path(patch, path = "/orgs/{org}/members/{user}", tag = "members", summary = "Change a member's role", request_body = MemberRoleBody, params(("org" = String, Path, description = "Organisation slug or id"), ("user" = String, Path, description = "User id")), responses((status = 204, description = "Changed"), (status = 403, description = "Needs manage_members, or would grant more than you hold", body = crate::http::error::ErrorEnvelope), (status = 409, description = "The owner, or yourself", body = crate::http::error::ErrorEnvelope)))]
pub async fn change_role(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, user_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<MemberRoleBody>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    let current = orgs::role_of(&mut tx, &ctx.org.id, &user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_assignable(&mut tx, &ctx, &body.role).await?;
    if current == BuiltinRole::Owner.key() {
        return Err(AppError::Conflict(
            "owner_role",
            "The owner's role changes only by transferring ownership.".into(),
        ));
    }
    if !role_permissions(&mut tx, &ctx.org.id, &current)
        .await?
        .is_subset(ctx.permissions)
    {
        return Err(AppError::Forbidden(
            "escalation",
            "You cannot change the role of someone who holds permissions you do not.".into(),
        ));
    }
    if user_id == ctx.caller.user.id {
        return Err(AppError::Conflict(
            "own_role",
            "You cannot change your own role; ask another admin.".into(),
        ));
    }
    orgs::set_role(&mut tx, &ctx.org.id, &user_id, &body.role).await?;
    let detail = serde_json::json!({"from": current, "to": body.role});
    audit::append(
        &mut tx,
        &ctx.event("member.role_changed", &user_id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses role keys that do not exist in the organisation, `owner`, and roles granting
/// permissions the caller lacks.
pub async fn check_assignable(
    tx: &mut crate::db::Tx,
    ctx: &OrgContext,
    role: &str,
) -> Result<(), AppError> {
    if role == BuiltinRole::Owner.key() {
        return Err(AppError::field("role", "Ownership moves only by transfer."));
    }
    let known = BuiltinRole::parse(role).is_some()
        || crate::tenancy::roles::get(tx, &ctx.org.id, role)
            .await?
            .is_some();
    if !known {
        return Err(AppError::field(
            "role",
            "No such role in this organisation.",
        ));
    }
    if !role_permissions(tx, &ctx.org.id, role)
        .await?
        .is_subset(ctx.permissions)
    {
        return Err(AppError::Forbidden(
            "escalation",
            "You cannot grant permissions you do not hold.".into(),
        ));
    }
    Ok(())
}

/// `DELETE /orgs/{org}/members/{user}`: removes a member (or lets a member leave). Their
/// access ends at once.
#[utoipa::path(delete, path = "/orgs/{org}/members/{user}", tag = "members", summary = "Remove a member, or leave", params(("org" = String, Path, description = "Organisation slug or id"), ("user" = String, Path, description = "User id")), responses((status = 204, description = "Removed; their access ends at once"), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope), (status = 409, description = "The owner", body = crate::http::error::ErrorEnvelope)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let leaving = user_id == ctx.caller.user.id && ctx.caller.session_id().is_ok();
    if !leaving {
        ctx.require(Permission::ManageMembers)?;
    }
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    let role = orgs::role_of(&mut tx, &ctx.org.id, &user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if role == BuiltinRole::Owner.key() {
        return Err(AppError::Conflict(
            "owner_role",
            "The owner cannot be removed; transfer ownership first.".into(),
        ));
    }
    if !leaving
        && !role_permissions(&mut tx, &ctx.org.id, &role)
            .await?
            .is_subset(ctx.permissions)
    {
        return Err(AppError::Forbidden(
            "escalation",
            "You cannot remove someone who holds permissions you do not.".into(),
        ));
    }
    orgs::remove_member(&mut tx, &ctx.org.id, &user_id).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "member.removed",
            &user_id,
            serde_json::json!({"role": role}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /orgs/{org}/transfer-ownership` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    user_id: String,
}

/// `POST /orgs/{org}/transfer-ownership`: owner only; the new owner must be a member, and the
/// old owner becomes an admin.
#[utoipa::path(post, path = "/orgs/{org}/transfer-ownership", tag = "organisations", summary = "Transfer ownership", request_body = TransferBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 204, description = "Transferred; you become an admin"), (status = 403, description = "Owner only", body = crate::http::error::ErrorEnvelope)))]
pub async fn transfer(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<StatusCode, AppError> {
    ctx.require_owner()?;
    if body.user_id == ctx.caller.user.id {
        return Err(AppError::field(
            "user_id",
            "You already own this organisation.",
        ));
    }
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    if orgs::role_of(&mut tx, &ctx.org.id, &body.user_id)
        .await?
        .is_none()
    {
        return Err(AppError::field(
            "user_id",
            "Ownership can only go to a member of the organisation.",
        ));
    }
    // Demote first, and only if the caller is still the owner inside this transaction: two
    // transfers racing cannot both succeed.
    if !orgs::demote_owner(&mut tx, &ctx.org.id, &ctx.caller.user.id).await? {
        return Err(AppError::Forbidden(
            "owner_only",
            "Only the organisation's owner can do this.".into(),
        ));
    }
    orgs::set_role(
        &mut tx,
        &ctx.org.id,
        &body.user_id,
        BuiltinRole::Owner.key(),
    )
    .await?;
    let detail = serde_json::json!({"from": ctx.caller.user.id, "to": body.user_id});
    audit::append(
        &mut tx,
        &ctx.event("org.ownership_transferred", &body.user_id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
