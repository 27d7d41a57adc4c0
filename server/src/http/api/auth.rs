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
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: String,
    password: String,
    org_name: String,
}

/// `POST /auth/login` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

/// A body with one token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// `POST /auth/password-reset` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    email: String,
}

/// `POST /auth/password-reset/confirm` body.
#[derive(Deserialize)]
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
pub async fn verify_email(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<StatusCode, AppError> {
    account::verify_email(&state, &origin, &body.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /auth/resend-verification`: mails a new verification link.
pub async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, AppError> {
    caller.session_id()?;
    account::resend_verification(&state, &caller.user, &caller.origin).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /auth/password-reset`: 202 whether or not the address has an account.
pub async fn request_reset(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<StatusCode, AppError> {
    account::request_reset(&state, &origin, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /auth/password-reset/confirm`: sets the new password; sign in afterwards.
pub async fn confirm_reset(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<StatusCode, AppError> {
    account::confirm_reset(&state, &origin, &body.token, body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
