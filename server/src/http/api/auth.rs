//! `/api/v1/auth/*`: sign-up, sign-in, refresh, sign-out, email verification, password reset.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::{ApiJson, ClientOrigin};
use crate::auth::account::{self, Issued, SignupInput};
use crate::auth::caller::Caller;
use crate::auth::cookies;
use crate::http::error::AppError;
use crate::state::AppState;

/// `POST /auth/signup` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    org_name: String,
}

/// `POST /auth/login` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// A body with one token.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// `POST /auth/password-reset` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    email: String,
}

/// `POST /auth/password-reset/confirm` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    token: String,
    password: String,
}

/// The session as JSON, with its tokens in cookies.
fn session_response(
    state: &AppState,
    status: StatusCode,
    issued: &Issued,
    extra: serde_json::Value,
) -> Response {
    let mut headers = HeaderMap::new();
    let policy = state.auth.policy;
    let refresh_ttl = (issued.session.expires_at_ms - issued.session.last_used_at_ms) / 1000;
    cookies::set_session(
        &mut headers,
        state.auth.secure_cookies,
        &issued.access_token,
        policy.access_ttl_secs,
        &issued.refresh_token,
        refresh_ttl.min(policy.absolute_ms / 1000),
    );
    let mut body = serde_json::to_value(issued).unwrap_or_default();
    if let (Some(map), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        map.extend(extra);
    }
    (status, headers, Json(body)).into_response()
}

/// `POST /auth/signup`: creates an account and its first organisation; 201 with a session.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", summary = "Create an account and its first organisation", security(()), request_body = SignupBody, responses((status = 201, description = "Signed up and signed in; session cookies are set", body = crate::auth::account::Issued), (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope), (status = 429, description = "Too many sign-ups from this address", body = crate::http::error::ErrorEnvelope)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<SignupBody>,
) -> Result<Response, AppError> {
    let input = SignupInput {
        email: body.email,
        password: body.password,
        org_name: body.org_name,
    };
    let (issued, org) = account::signup(&state, &origin, input).await?;
    let extra = serde_json::json!({"org": {"id": org.id, "slug": org.slug, "name": org.name, "role": "owner"}});
    Ok(session_response(
        &state,
        StatusCode::CREATED,
        &issued,
        extra,
    ))
}

/// `POST /auth/login`: 200 with a session, or 401 `mfa_required` when a code is needed.
#[utoipa::path(post, path = "/auth/login", tag = "auth", summary = "Sign in", security(()), request_body = LoginBody, responses((status = 200, description = "Signed in; session cookies are set", body = crate::auth::account::Issued), (status = 401, description = "Wrong credentials, or `mfa_required` / `mfa_invalid`", body = crate::http::error::ErrorEnvelope), (status = 429, description = "Rate limited or locked out; see Retry-After", body = crate::http::error::ErrorEnvelope)))]
pub async fn login(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, AppError> {
    let issued = account::login(&state, &origin, &body.email, body.password, body.totp).await?;
    Ok(session_response(
        &state,
        StatusCode::OK,
        &issued,
        serde_json::json!({}),
    ))
}

/// `POST /auth/refresh`: spends the refresh cookie for new tokens.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", summary = "Rotate the refresh cookie", security(()), responses((status = 200, description = "New tokens; the refresh cookie is rotated", body = crate::auth::account::Issued), (status = 401, description = "No live session; `session_revoked` when a spent token was reused", body = crate::http::error::ErrorEnvelope)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(token) = cookies::read(&headers, cookies::names(state.auth.secure_cookies).refresh)
        .map(str::to_owned)
    else {
        return Err(AppError::Unauthorized(
            "session_ended",
            "No refresh token; sign in again.".into(),
        ));
    };
    match account::refresh(&state, &origin, &token).await {
        Ok(issued) => Ok(session_response(
            &state,
            StatusCode::OK,
            &issued,
            serde_json::json!({}),
        )),
        Err(error) => {
            let mut response = error.into_response();
            cookies::clear_session(response.headers_mut(), state.auth.secure_cookies);
            Ok(response)
        }
    }
}

/// `POST /auth/logout`: ends this session and clears the cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", summary = "Sign out of this session", responses((status = 204, description = "Signed out; cookies cleared"), (status = 401, description = "Not signed in", body = crate::http::error::ErrorEnvelope)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, AppError> {
    let session_id = caller.session_id()?.to_owned();
    account::end_session(
        &state,
        &caller.user,
        &caller.origin,
        &session_id,
        "auth.logout",
    )
    .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    cookies::clear_session(response.headers_mut(), state.auth.secure_cookies);
    Ok(response)
}

/// `POST /auth/logout-all`: ends every session of the caller, this one included.
#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", summary = "Sign out everywhere", responses((status = 200, description = "Every session ended", body = Object), (status = 401, description = "Not signed in", body = crate::http::error::ErrorEnvelope)))]
pub async fn logout_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, AppError> {
    caller.session_id()?;
    let ended = account::end_all_sessions(&state, &caller.user, &caller.origin).await?;
    let mut response = Json(serde_json::json!({"sessions_ended": ended})).into_response();
    cookies::clear_session(response.headers_mut(), state.auth.secure_cookies);
    Ok(response)
}

/// `POST /auth/verify-email`: confirms the address with the mailed token.
#[utoipa::path(post, path = "/auth/verify-email", tag = "auth", summary = "Confirm an email address", security(()), request_body = TokenBody, responses((status = 204, description = "Address confirmed"), (status = 400, description = "Unknown, used or expired link", body = crate::http::error::ErrorEnvelope)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<StatusCode, AppError> {
    account::verify_email(&state, &origin, &body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/resend-verification`: mails a new verification link.
#[utoipa::path(post, path = "/auth/resend-verification", tag = "auth", summary = "Mail a new confirmation link", responses((status = 202, description = "Mail sent"), (status = 409, description = "Already confirmed", body = crate::http::error::ErrorEnvelope)))]
pub async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, AppError> {
    caller.session_id()?;
    account::resend_verification(&state, &caller.user, &caller.origin).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /auth/password-reset`: 202 whether or not the address has an account.
#[utoipa::path(post, path = "/auth/password-reset", tag = "auth", summary = "Ask for a password-reset link", security(()), request_body = ResetBody, responses((status = 202, description = "A link is mailed if the address has an account"), (status = 429, description = "Too many requests", body = crate::http::error::ErrorEnvelope)))]
pub async fn request_reset(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, AppError> {
    account::request_reset(&state, &origin, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /auth/password-reset/confirm`: sets the new password; sign in afterwards.
#[utoipa::path(post, path = "/auth/password-reset/confirm", tag = "auth", summary = "Set a new password with a reset link", security(()), request_body = ResetConfirmBody, responses((status = 204, description = "Password set; every session ended"), (status = 400, description = "Unknown, used or expired link", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Password refused by the policy", body = crate::http::error::ErrorEnvelope)))]
pub async fn confirm_reset(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<StatusCode, AppError> {
    account::confirm_reset(&state, &origin, &body.token, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
