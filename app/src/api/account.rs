//! The signed-in account: sign-up, sign-in and out, password reset and change, sessions, the
//! second factor and preferences. Each server function calls the JSON API in-process, so the
//! pages get exactly the API's checks and errors.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// Test frameworks the generator supports, in the order the UI lists them.
pub const FRAMEWORKS: [&str; 11] = [
    "pytest",
    "jest",
    "junit",
    "mocha",
    "rspec",
    "phpunit",
    "nunit",
    "gotest",
    "playwright",
    "cypress",
    "selenium",
];

/// One organisation the user belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyOrg {
    /// Id.
    pub id: String,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Role key.
    pub role: String,
    /// Comments there that mention the user, unread.
    #[serde(default)]
    pub unread_mentions: u64,
}

/// Per-user preferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Default test framework.
    pub default_framework: String,
    /// IANA time zone.
    pub time_zone: String,
}

/// The signed-in account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Whether the address is confirmed.
    pub email_verified: bool,
    /// Whether TOTP is on.
    pub mfa_enabled: bool,
    /// Organisations.
    pub orgs: Vec<MyOrg>,
    /// Preferences.
    pub preferences: Preferences,
}

/// A live session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Id.
    pub id: String,
    /// Sign-in time.
    pub created_at_ms: i64,
    /// Last activity.
    pub last_used_at_ms: i64,
    /// Absolute end.
    pub expires_at_ms: i64,
    /// Passed a second factor.
    pub mfa: bool,
    /// Browser.
    pub user_agent: String,
    /// Address.
    pub ip: String,
    /// This browser's session.
    pub current: bool,
}

/// A pending TOTP enrolment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://` URL.
    pub otpauth_url: String,
    /// QR code (SVG markup rendered by the server).
    pub qr_svg: String,
}

#[cfg(feature = "ssr")]
use crate::ssr::call;
#[cfg(feature = "ssr")]
use http::Method;

/// The signed-in account, or `None`.
#[server(prefix = "/rpc", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, ApiError> {
    match call::<Me>(Method::GET, "/me", None).await {
        Ok(me) => Ok(Some(me)),
        Err(e) if e.status == 401 => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::OK);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Creates an account and its first organisation; returns the organisation's slug.
#[server(prefix = "/rpc", endpoint = "sign_up")]
pub async fn sign_up(
    email: String,
    password: String,
    org_name: String,
) -> Result<String, ApiError> {
    let body = serde_json::json!({"email": email, "password": password, "org_name": org_name});
    let reply: serde_json::Value = call(Method::POST, "/auth/signup", Some(body)).await?;
    Ok(reply["org"]["slug"].as_str().unwrap_or_default().to_owned())
}

/// Signs in; `totp` may be empty until the server answers `mfa_required`.
#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, totp: String) -> Result<(), ApiError> {
    let mut body = serde_json::json!({"email": email, "password": password});
    if !totp.trim().is_empty() {
        body["totp"] = totp.into();
    }
    call::<serde_json::Value>(Method::POST, "/auth/login", Some(body))
        .await
        .map(drop)
}

/// Signs out of this browser.
#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ApiError> {
    call::<serde_json::Value>(Method::POST, "/auth/logout", None)
        .await
        .map(drop)
}

/// Mails a password-reset link (the answer does not reveal whether the address has an account).
#[server(prefix = "/rpc", endpoint = "request_reset")]
pub async fn request_reset(email: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::POST,
        "/auth/password-reset",
        Some(serde_json::json!({"email": email})),
    )
    .await
    .map(drop)
}

/// Sets a new password with the mailed token.
#[server(prefix = "/rpc", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), ApiError> {
    let body = serde_json::json!({"token": token, "password": password});
    call::<serde_json::Value>(Method::POST, "/auth/password-reset/confirm", Some(body))
        .await
        .map(drop)
}

/// Confirms the email address with the mailed token.
#[server(prefix = "/rpc", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::POST,
        "/auth/verify-email",
        Some(serde_json::json!({"token": token})),
    )
    .await
    .map(drop)
}

/// Changes the password; other sessions end.
#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), ApiError> {
    let body =
        serde_json::json!({"current_password": current_password, "new_password": new_password});
    call::<serde_json::Value>(Method::POST, "/me/password", Some(body))
        .await
        .map(drop)
}

/// The account's live sessions.
#[server(prefix = "/rpc", endpoint = "sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, ApiError> {
    call(Method::GET, "/me/sessions", None).await
}

/// Ends one session.
#[server(prefix = "/rpc", endpoint = "revoke_session")]
pub async fn revoke_session(id: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &format!("/me/sessions/{}", urlencode(&id)),
        None,
    )
    .await
    .map(drop)
}

/// Ends every session, this one included.
#[server(prefix = "/rpc", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), ApiError> {
    call::<serde_json::Value>(Method::POST, "/auth/logout-all", None)
        .await
        .map(drop)
}

/// Mails a new email-confirmation link.
#[server(prefix = "/rpc", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), ApiError> {
    call::<serde_json::Value>(Method::POST, "/auth/resend-verification", None)
        .await
        .map(drop)
}

/// Starts TOTP enrolment; the current password is asked again.
#[server(prefix = "/rpc", endpoint = "start_totp")]
pub async fn start_totp(password: String) -> Result<Enrolment, ApiError> {
    call(
        Method::POST,
        "/me/mfa/totp",
        Some(serde_json::json!({"password": password})),
    )
    .await
}

/// Confirms TOTP enrolment; returns the recovery codes, shown once.
#[server(prefix = "/rpc", endpoint = "confirm_totp")]
pub async fn confirm_totp(code: String) -> Result<Vec<String>, ApiError> {
    let reply: serde_json::Value = call(
        Method::POST,
        "/me/mfa/totp/confirm",
        Some(serde_json::json!({"code": code})),
    )
    .await?;
    Ok(serde_json::from_value(reply["recovery_codes"].clone()).unwrap_or_default())
}

/// Replaces the recovery codes (needs a current code); returns the new ones, shown once.
#[server(prefix = "/rpc", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes(code: String) -> Result<Vec<String>, ApiError> {
    let reply: serde_json::Value = call(
        Method::POST,
        "/me/mfa/recovery-codes",
        Some(serde_json::json!({"code": code})),
    )
    .await?;
    Ok(serde_json::from_value(reply["recovery_codes"].clone()).unwrap_or_default())
}

/// Turns TOTP off.
#[server(prefix = "/rpc", endpoint = "disable_totp")]
pub async fn disable_totp(password: String, code: String) -> Result<(), ApiError> {
    let body = serde_json::json!({"password": password, "code": code});
    call::<serde_json::Value>(Method::POST, "/me/mfa/totp/disable", Some(body))
        .await
        .map(drop)
}

/// Saves preferences.
#[server(prefix = "/rpc", endpoint = "save_preferences")]
pub async fn save_preferences(
    theme: String,
    default_framework: String,
    time_zone: String,
) -> Result<Preferences, ApiError> {
    let body = serde_json::json!({"theme": theme, "default_framework": default_framework, "time_zone": time_zone});
    call(Method::PATCH, "/me/preferences", Some(body)).await
}

/// Percent-encodes a path segment.
pub fn urlencode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
