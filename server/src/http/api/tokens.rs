//! `/api/v1/orgs/{org}/tokens*`: API tokens for CI and the CLI.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::audit;
use crate::auth::caller::Credential;
use crate::auth::input::parse_name;
use crate::http::error::{AppError, FieldError};
use crate::state::AppState;
use crate::tenancy::api_tokens::{self, ApiToken, MAX_TTL_DAYS};
use crate::tenancy::context::OrgContext;
use crate::tenancy::permission::{Permission, PermissionSet};

/// A token as listed, with its scopes spelled out.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    #[serde(flatten)]
    token: ApiToken,
    scopes: Vec<Permission>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        let scopes = PermissionSet::from_db(&token.scopes).to_vec();
        Self { token, scopes }
    }
}

/// `GET /orgs/{org}/tokens`: every token for members who manage members, else the caller's own.
#[utoipa::path(get, path = "/orgs/{org}/tokens", tag = "tokens", summary = "List API tokens", params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 200, description = "Tokens (all with manage_members, else your own)", body = Vec<TokenView>)))]
pub async fn list(
    State(state): State<AppState>,
    ctx: OrgContext,
) -> Result<Json<Vec<TokenView>>, AppError> {
    let only = (!ctx.permissions.contains(Permission::ManageMembers))
        .then_some(ctx.caller.user.id.as_str());
    let mut tx = ctx.begin_read(&state.db).await?;
    let list = api_tokens::list(&mut tx, &ctx.org.id, only).await?;
    Ok(Json(list.into_iter().map(TokenView::from).collect()))
}

/// `POST /orgs/{org}/tokens` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    name: String,
    scopes: Vec<String>,
    #[serde(default = "default_kind")]
    kind: String,
    #[serde(default = "default_days")]
    expires_in_days: i64,
}

fn default_kind() -> String {
    "personal".into()
}

fn default_days() -> i64 {
    90
}

/// `POST /orgs/{org}/tokens`: returns `{token}` once. Scopes cannot exceed the creator's own
/// permissions; organisation tokens need `manage_members`.
#[utoipa::path(post, path = "/orgs/{org}/tokens", tag = "tokens", summary = "Create an API token", request_body = CreateTokenBody, params(("org" = String, Path, description = "Organisation slug or id")), responses((status = 201, description = "Created; `token` holds the secret, shown once", body = TokenView), (status = 403, description = "Scopes beyond your permissions, or an org token without manage_members", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ctx: OrgContext,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    if !matches!(ctx.caller.credential, Credential::Session { .. }) {
        return Err(AppError::Forbidden(
            "session_required",
            "Tokens are created by a signed-in person, not by another token.".into(),
        ));
    }
    let mut fields = Vec::new();
    let name = parse_name(&body.name)
        .map_err(|m| {
            fields.push(FieldError {
                field: "name",
                message: m.into(),
            })
        })
        .ok();
    let scopes = PermissionSet::parse_names(&body.scopes)
        .map_err(|m| {
            fields.push(FieldError {
                field: "scopes",
                message: m,
            })
        })
        .ok();
    if scopes == Some(PermissionSet::EMPTY) {
        fields.push(FieldError {
            field: "scopes",
            message: "Choose at least one scope.".into(),
        });
    }
    if !(1..=MAX_TTL_DAYS).contains(&body.expires_in_days) {
        fields.push(FieldError {
            field: "expires_in_days",
            message: format!("Choose between 1 and {MAX_TTL_DAYS} days."),
        });
    }
    if !["personal", "org"].contains(&body.kind.as_str()) {
        fields.push(FieldError {
            field: "kind",
            message: "Choose personal or org.".into(),
        });
    }
    let (Some(name), Some(scopes), true) = (name, scopes, fields.is_empty()) else {
        return Err(AppError::Invalid(fields));
    };
    if body.kind == "org" {
        ctx.require(Permission::ManageMembers)?;
    }
    if !scopes.is_subset(ctx.permissions) {
        return Err(AppError::Forbidden(
            "escalation",
            "A token cannot have scopes your role does not have.".into(),
        ));
    }
    let now = state.auth.now();
    let id = uuid::Uuid::new_v4().to_string();
    let token = ApiToken {
        prefix: id.replace('-', "")[..8].to_owned(),
        id,
        org_id: ctx.org.id.clone(),
        user_id: ctx.caller.user.id.clone(),
        kind: body.kind,
        name,
        scopes: scopes.to_db(),
        created_at_ms: now,
        expires_at_ms: now + body.expires_in_days * 86_400_000,
        last_used_at_ms: None,
        revoked_at_ms: None,
    };
    let mut tx = ctx.begin(&state.db).await?;
    let secret = api_tokens::insert(&mut tx, &token).await?;
    let detail = serde_json::json!({"name": token.name, "kind": token.kind, "scopes": token.scopes, "expires_at_ms": token.expires_at_ms});
    audit::append(&mut tx, &ctx.event("token.created", &token.id, detail), now).await?;
    tx.commit().await?;
    let mut body = serde_json::to_value(TokenView::from(token)).unwrap_or_default();
    body["token"] = secret.into();
    Ok((StatusCode::CREATED, Json(body)))
}

/// `DELETE /orgs/{org}/tokens/{id}`: the creator, or anyone who manages members.
#[utoipa::path(delete, path = "/orgs/{org}/tokens/{id}", tag = "tokens", summary = "Revoke an API token", params(("org" = String, Path, description = "Organisation slug or id"), ("id" = String, Path, description = "Token id")), responses((status = 204, description = "Revoked"), (status = 403, description = "Not yours and no manage_members", body = crate::http::error::ErrorEnvelope)))]
pub async fn revoke(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let now = state.auth.now();
    let mut tx = ctx.begin(&state.db).await?;
    let token = api_tokens::get(&mut tx, &ctx.org.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = token.user_id == ctx.caller.user.id && ctx.caller.session_id().is_ok();
    if !own {
        ctx.require(Permission::ManageMembers)?;
    }
    if !api_tokens::revoke(&mut tx, &ctx.org.id, &id, now).await? {
        return Err(AppError::NotFound);
    }
    audit::append(
        &mut tx,
        &ctx.event(
            "token.revoked",
            &id,
            serde_json::json!({"name": token.name}),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
