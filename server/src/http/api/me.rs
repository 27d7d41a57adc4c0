//! `/api/v1/me*`: the signed-in account, its preferences, password, sessions and second factor.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::extract::ApiJson;
use crate::auth::account::{self, UserSummary};
use crate::auth::caller::Caller;
use crate::auth::mfa::{self, Enrolment};
use crate::auth::sessions::{self, Session};
use crate::auth::users;
use crate::db::Scope;
use crate::http::error::{AppError, FieldError};
use crate::state::AppState;
use crate::tenancy::orgs;
use crate::tenancy::sharing::Grants;

/// One organisation in `GET /me`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MyOrg {
    id: String,
    slug: String,
    name: String,
    role: String,
    /// Comments there that mention you and that you have not marked read.
    unread_mentions: u64,
}

/// `GET /me`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    #[serde(flatten)]
    user: UserSummary,
    orgs: Vec<MyOrg>,
    preferences: Preferences,
}

/// Per-user preferences.
#[derive(Serialize, Deserialize, Clone, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    theme: String,
    default_framework: String,
    time_zone: String,
}

/// `PATCH /me/preferences` body: any subset.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesPatch {
    theme: Option<String>,
    default_framework: Option<String>,
    time_zone: Option<String>,
}

/// `GET /me`: the account and its organisations with the role in each.
#[utoipa::path(get, path = "/me", tag = "account", summary = "The signed-in account", responses((status = 200, description = "The account and its organisations", body = Me), (status = 401, description = "Not signed in", body = crate::http::error::ErrorEnvelope)))]
pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, AppError> {
    let mut tx = state.db.begin_read(Scope::System).await?;
    let memberships = orgs::for_user(&mut tx, &caller.user.id).await?;
    let mut unread = crate::comments::unread_by_org(&mut tx, &caller.user.id).await?;
    // Mentions on analyses the member can no longer see (made private, unshared) do not count.
    for (org, role) in &memberships {
        if unread.get(&org.id).copied().unwrap_or(0) == 0 {
            continue;
        }
        let grants = Grants::of_member(&mut tx, &org.id, &caller.user.id, role, None).await?;
        let (_, visible) =
            crate::comments::mentions_of(&mut tx, &org.id, &caller.user.id, 0, |a| {
                grants.on(a).is_some()
            })
            .await?;
        unread.insert(org.id.clone(), visible);
    }
    let token_org = match &caller.credential {
        crate::auth::caller::Credential::Token(t) => Some(t.org_id.clone()),
        crate::auth::caller::Credential::Session { .. } => None,
    };
    let orgs = memberships
        .into_iter()
        .filter(|(o, _)| token_org.as_ref().is_none_or(|id| *id == o.id))
        .map(|(o, role)| MyOrg {
            unread_mentions: unread.get(&o.id).copied().unwrap_or(0),
            id: o.id,
            slug: o.slug,
            name: o.name,
            role,
        })
        .collect();
    let u = &caller.user;
    let preferences = Preferences {
        theme: u.theme.clone(),
        default_framework: u.default_framework.clone(),
        time_zone: u.time_zone.clone(),
    };
    Ok(Json(Me {
        user: u.into(),
        orgs,
        preferences,
    }))
}

/// `PATCH /me/preferences`.
#[utoipa::path(patch, path = "/me/preferences", tag = "account", summary = "Update preferences", request_body = PreferencesPatch, responses((status = 200, description = "Saved", body = Preferences), (status = 422, description = "Invalid fields", body = crate::http::error::ErrorEnvelope)))]
pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(patch): ApiJson<PreferencesPatch>,
) -> Result<Json<Preferences>, AppError> {
    caller.session_id()?;
    let u = &caller.user;
    let next = Preferences {
        theme: patch.theme.unwrap_or_else(|| u.theme.clone()),
        default_framework: patch
            .default_framework
            .unwrap_or_else(|| u.default_framework.clone()),
        time_zone: patch.time_zone.unwrap_or_else(|| u.time_zone.clone()),
    };
    let mut fields = Vec::new();
    if !["system", "light", "dark"].contains(&next.theme.as_str()) {
        fields.push(FieldError {
            field: "theme",
            message: "Choose system, light or dark.".into(),
        });
    }
    if !app::api::account::FRAMEWORKS.contains(&next.default_framework.as_str()) {
        fields.push(FieldError {
            field: "default_framework",
            message: format!(
                "Choose one of {}.",
                app::api::account::FRAMEWORKS.join(", ")
            ),
        });
    }
    if !is_time_zone_name(&next.time_zone) {
        fields.push(FieldError {
            field: "time_zone",
            message: "Use an IANA time zone name such as Europe/Paris or UTC.".into(),
        });
    }
    if !fields.is_empty() {
        return Err(AppError::Invalid(fields));
    }
    let mut tx = state.db.begin(Scope::System).await?;
    users::set_preferences(
        &mut tx,
        &u.id,
        &next.theme,
        &next.default_framework,
        &next.time_zone,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(next))
}

/// `POST /me/password` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /me/password`: needs the current password; ends the other sessions.
#[utoipa::path(post, path = "/me/password", tag = "account", summary = "Change the password", request_body = PasswordBody, responses((status = 204, description = "Changed; other sessions ended"), (status = 422, description = "Wrong current password or refused new one", body = crate::http::error::ErrorEnvelope)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, AppError> {
    let session_id = caller.session_id()?.to_owned();
    account::change_password(
        &state,
        &caller.user,
        &session_id,
        &caller.origin,
        body.current_password,
        body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A session in the list, marked if it is the caller's own.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    session: Session,
    current: bool,
}

/// `GET /me/sessions`: live sessions, newest first.
#[utoipa::path(get, path = "/me/sessions", tag = "account", summary = "List sessions", responses((status = 200, description = "Live sessions, newest first", body = Vec<SessionView>)))]
pub async fn sessions(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<SessionView>>, AppError> {
    let current = caller.session_id()?.to_owned();
    let mut tx = state.db.begin_read(Scope::System).await?;
    let list = sessions::list_live(
        &mut tx,
        &caller.user.id,
        state.auth.now(),
        state.auth.policy,
    )
    .await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionView {
                current: s.id == current,
                session: s,
            })
            .collect(),
    ))
}

/// `DELETE /me/sessions/{id}`: ends one of the caller's sessions.
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "account", summary = "End one session", params(("id" = String, Path, description = "Session id")), responses((status = 204, description = "Ended"), (status = 404, description = "No such live session", body = crate::http::error::ErrorEnvelope)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    caller.session_id()?;
    account::end_session(
        &state,
        &caller.user,
        &caller.origin,
        &id,
        "auth.session_revoked",
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /me/mfa/totp` body: the current password.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReauthBody {
    password: String,
}

/// `POST /me/mfa/totp`: a new secret and its QR code, pending confirmation. Needs the current
/// password.
#[utoipa::path(post, path = "/me/mfa/totp", tag = "account", summary = "Start TOTP enrolment", request_body = ReauthBody, responses((status = 200, description = "Secret, otpauth URL and SVG QR code", body = crate::auth::mfa::Enrolment), (status = 409, description = "Already enrolled", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Wrong password", body = crate::http::error::ErrorEnvelope)))]
pub async fn start_totp(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ReauthBody>,
) -> Result<Json<Enrolment>, AppError> {
    caller.session_id()?;
    Ok(Json(
        mfa::start_enrolment(&state, &caller.user, body.password).await?,
    ))
}

/// A body with one code.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /me/mfa/totp/confirm`: turns TOTP on; returns the recovery codes once.
#[utoipa::path(post, path = "/me/mfa/totp/confirm", tag = "account", summary = "Confirm TOTP enrolment", request_body = CodeBody, responses((status = 200, description = "On; `recovery_codes` shown once", body = Object), (status = 422, description = "Code does not match", body = crate::http::error::ErrorEnvelope)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    caller.session_id()?;
    let codes = mfa::confirm_enrolment(&state, &caller.user, &body.code, &caller.origin).await?;
    Ok(Json(serde_json::json!({"recovery_codes": codes})))
}

/// `POST /me/mfa/totp/disable` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableBody {
    password: String,
    code: String,
}

/// `POST /me/mfa/totp/disable`: needs the password and a current code.
#[utoipa::path(post, path = "/me/mfa/totp/disable", tag = "account", summary = "Turn TOTP off", request_body = DisableBody, responses((status = 204, description = "Off"), (status = 401, description = "Wrong code", body = crate::http::error::ErrorEnvelope), (status = 422, description = "Wrong password", body = crate::http::error::ErrorEnvelope)))]
pub async fn disable_totp(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DisableBody>,
) -> Result<StatusCode, AppError> {
    caller.session_id()?;
    mfa::disable(
        &state,
        &caller.user,
        body.password,
        &body.code,
        &caller.origin,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /me/mfa/recovery-codes`: a fresh set of recovery codes; needs a current code.
#[utoipa::path(post, path = "/me/mfa/recovery-codes", tag = "account", summary = "Replace the recovery codes", request_body = CodeBody, responses((status = 200, description = "New `recovery_codes`, shown once", body = Object), (status = 401, description = "Wrong code", body = crate::http::error::ErrorEnvelope)))]
pub async fn regenerate_codes(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    caller.session_id()?;
    let codes =
        mfa::regenerate_recovery_codes(&state, &caller.user, &body.code, &caller.origin).await?;
    Ok(Json(serde_json::json!({"recovery_codes": codes})))
}

/// `UTC` or an IANA `Area/Location[/Sub]` name. The browser supplies the name (from `Intl`), and
/// the UI formats with it, so only its shape is checked here.
fn is_time_zone_name(name: &str) -> bool {
    if name == "UTC" {
        return true;
    }
    let parts: Vec<&str> = name.split('/').collect();
    (2..=3).contains(&parts.len())
        && name.len() <= 64
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

#[cfg(test)]
mod tests {
    use super::is_time_zone_name;

    #[test]
    fn time_zone_names() {
        for ok in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(is_time_zone_name(ok), "{ok}");
        }
        for bad in [
            "",
            "utc",
            "Europe",
            "Europe/",
            "../etc/passwd",
            "Europe/Paris; drop",
        ] {
            assert!(!is_time_zone_name(bad), "{bad}");
        }
    }
}
