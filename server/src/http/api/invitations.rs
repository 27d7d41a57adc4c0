//! `/api/v1/orgs/{org}/invitations*`: invite by email, list, withdraw, accept.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use super::orgs::check_assignable;
use crate::audit;
use crate::auth::caller::Caller;
use crate::auth::input::Email;
use crate::auth::mail::Mail;
use crate::auth::users;
use crate::db::Scope;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::OrgContext;
use crate::tenancy::invitations::{self, Invitation, NewInvitation};
use crate::tenancy::permission::{BuiltinRole, Permission};
use crate::tenancy::{orgs, teams};

/// `GET /orgs/{org}/invitations`.
#[utoipa::path(get, path = "/orgs/{org}/invitations", tag = "invitations", summary = "List invitations", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Invitations, newest first", body = Vec<crate::tenancy::invitations::Invitation>), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<Invitation>>, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let mut tx = ctx.begin_read(&state.db).await?;
    Ok(Json(invitations::list(&mut tx, &ctx.org.id).await?))
}

/// `POST /orgs/{org}/invitations` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    #[serde(default = "default_role")]
    role: String,
    #[serde(default)]
    team_id: Option<String>,
}

fn default_role() -> String {
    BuiltinRole::Member.key().to_owned()
}

/// `POST /orgs/{org}/invitations`: mails a single-use link, valid for seven days.
#[utoipa::path(post, path = "/orgs/{org}/invitations", tag = "invitations", summary = "Invite someone by email", request_body = InviteBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 201, description = "Created and mailed", body = crate::tenancy::invitations::Invitation), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Invalid address or role, or already a member", body = crate::http::error::ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<Invitation>), AppError> {
    ctx.require(Permission::ManageMembers)?;
    let email = Email::parse(&body.email).map_err(|m| AppError::field("email", m))?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    check_assignable(&mut tx, &ctx, &body.role).await?;
    if let Some(team_id) = &body.team_id {
        teams::get(&mut tx, &ctx.org.id, team_id)
            .await?
            .ok_or_else(|| AppError::field("team_id", "No such team in this organisation."))?;
    }
    if let Some(existing) = users::by_email(&mut tx, email.as_str()).await?
        && orgs::role_of(&mut tx, &ctx.org.id, &existing.id)
            .await?
            .is_some()
    {
        return Err(AppError::field("email", "This person is already a member."));
    }
    let new = NewInvitation {
        org_id: &ctx.org.id,
        email: email.as_str(),
        role: &body.role,
        team_id: body.team_id.as_deref(),
        invited_by: &ctx.caller.user.id,
    };
    let (invitation, token) = invitations::insert(&mut tx, &new, now).await?;
    let detail = serde_json::json!({"email": invitation.email, "role": invitation.role});
    audit::append(
        &mut tx,
        &ctx.event("invitation.created", &invitation.id, detail),
        now,
    )
    .await?;
    tx.commit().await?;
    state
        .auth
        .mailer
        .send(invitation_mail(&state, &ctx, &invitation, &token))
        .await;
    Ok((StatusCode::CREATED, Json(invitation)))
}

fn invitation_mail(
    state: &AppState,
    ctx: &OrgContext,
    invitation: &Invitation,
    token: &str,
) -> Mail {
    Mail {
        to: invitation.email.clone(),
        subject: format!(
            "{} invited you to {} on Faultline",
            ctx.caller.user.email, ctx.org.name
        ),
        body: format!(
            "{} invited you to join {} on Faultline as {}.\n\nAccept within 7 days (sign up or sign in with this address first):\n\n{}/invitations/accept?org={}&token={token}\n\nIf you did not expect this, ignore this message.\n",
            ctx.caller.user.email,
            ctx.org.name,
            invitation.role,
            state.auth.public_url,
            ctx.org.slug
        ),
    }
}

/// `DELETE /orgs/{org}/invitations/{id}`: withdraws an open invitation.
#[utoipa::path(delete, path = "/orgs/{org}/invitations/{id}", tag = "invitations", summary = "Withdraw an invitation", params(("org" = String, Path, description = "Organisation slug or id"), ("id" = String, Path, description = "Invitation id")), responses((status = 204, description = "Withdrawn"), (status = 403, description = "Needs manage_members", body = crate::http::error::ErrorEnvelope)))]
pub async fn revoke(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    ctx.require(Permission::ManageMembers)?;
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    if !invitations::revoke(&mut tx, &ctx.org.id, &id, now).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &ctx.event("invitation.revoked", &id, serde_json::json!({})),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /orgs/{org}/invitations/accept` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
}

/// What accepting joined.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    org_id: String,
    slug: String,
    role: String,
}

fn refused(message: &str) -> AppError {
    AppError::BadRequest(message.to_owned())
}

/// `POST /orgs/{org}/invitations/accept`: the signed-in invitee joins. The invitation must be
/// for this organisation, for the caller's address, open and unexpired. Accepting proves the
/// address, so it is marked verified.
#[utoipa::path(post, path = "/orgs/{org}/invitations/accept", tag = "invitations", summary = "Accept an invitation", request_body = AcceptBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Joined", body = Accepted), (status = 400, description = "Not valid for this organisation, used, withdrawn or expired", body = crate::http::error::ErrorEnvelope), (status = 403, description = "Sent to another address", body = crate::http::error::ErrorEnvelope)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(org_key): Path<String>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Json<Accepted>, AppError> {
    caller.session_id()?;
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let org = orgs::by_key(&mut tx, &org_key)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(invitation) = invitations::by_token(&mut tx, &body.token)
        .await?
        .filter(|i| i.org_id == org.id)
    else {
        return Err(refused(
            "This invitation link is not valid for this organisation.",
        ));
    };
    if invitation.accepted_at_ms.is_some() || invitation.revoked_at_ms.is_some() {
        return Err(refused(
            "This invitation was already used or was withdrawn. Ask for a new one.",
        ));
    }
    if invitation.expires_at_ms <= now {
        return Err(refused("This invitation has expired. Ask for a new one."));
    }
    if invitation.email != caller.user.email {
        return Err(AppError::Forbidden(
            "wrong_account",
            format!(
                "This invitation is for {}. Sign in with that address to accept it.",
                invitation.email
            ),
        ));
    }
    if orgs::role_of(&mut tx, &org.id, &caller.user.id)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(
            "already_member",
            "You are already a member of this organisation.".into(),
        ));
    }
    if !invitations::mark_accepted(&mut tx, &invitation.id, &caller.user.id, now).await? {
        return Err(refused(
            "This invitation was already used. Ask for a new one.",
        ));
    }
    orgs::add_member(&mut tx, &org.id, &caller.user.id, &invitation.role, now).await?;
    if let Some(team_id) = &invitation.team_id {
        teams::add_member(&mut tx, &org.id, team_id, &caller.user.id, now).await?;
    }
    users::mark_verified(&mut tx, &caller.user.id, now).await?;
    let detail = serde_json::json!({"role": invitation.role});
    let event = caller.event(&org.id, "invitation.accepted", &invitation.id, detail);
    audit::append(&mut tx, &event, now).await?;
    tx.commit().await?;
    Ok(Json(Accepted {
        org_id: org.id,
        slug: org.slug,
        role: invitation.role,
    }))
}
