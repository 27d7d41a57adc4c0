//! The second factor: TOTP enrolment with a server-rendered QR code, single-use recovery
//! codes, and the check that sign-in and sensitive changes share.

use serde::Serialize;

use super::account::audit_user;
use super::sessions::Origin;
use super::users::{self, User};
use super::{one_time, password, rate_limit, totp};
use crate::crypto::Sealer;
use crate::db::Scope;
use crate::http::error::AppError;
use crate::state::AppState;

fn wrong_code() -> AppError {
    AppError::Unauthorized(
        "mfa_invalid",
        "That code is not valid. Codes work once; wait for the next one.".into(),
    )
}

/// Checks a TOTP or recovery code for `user`, spending it. Failures count towards the
/// account's lockout and are audited.
pub async fn check_code(
    state: &AppState,
    user: &User,
    code: &str,
    origin: &Origin,
) -> Result<(), AppError> {
    let auth = &state.auth;
    auth.limiter.attempt(rate_limit::MFA_PER_IP, &origin.ip)?;
    auth.limiter.check_lockout(&user.email)?;
    let now = auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let (accepted, kind) = if one_time::looks_like_recovery_code(code) {
        (
            one_time::spend_recovery_code(&mut tx, &auth.recovery_key, &user.id, code, now).await?,
            "recovery_code",
        )
    } else {
        let secret = open_secret(auth, user, user.totp_secret.as_deref())?;
        let step = secret
            .as_deref()
            .and_then(|s| totp::matching_step(s, code, now));
        let fresh = match step {
            Some(step) => users::accept_totp_step(&mut tx, &user.id, step).await?,
            None => false,
        };
        (fresh, "totp")
    };
    if accepted {
        if kind == "recovery_code" {
            let left = one_time::recovery_codes_left(&mut tx, &user.id).await?;
            audit_user(
                &mut tx,
                Some(user),
                "mfa.recovery_code_used",
                origin,
                serde_json::json!({"left": left}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    auth.limiter.record_failure(&user.email);
    audit_user(
        &mut tx,
        Some(user),
        "auth.mfa_failed",
        origin,
        serde_json::json!({"kind": kind}),
        now,
    )
    .await?;
    tx.commit().await?;
    Err(wrong_code())
}

/// What the enrolment screen shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// Base32 secret, for typing into an app by hand.
    pub secret: String,
    /// The `otpauth://` URL.
    pub otpauth_url: String,
    /// The same URL as an SVG QR code.
    pub qr_svg: String,
}

/// A stored TOTP secret in the clear: sealed ones are opened (a value that does not open is an
/// error, never a pass), ones stored before sealing existed are read as they are until
/// [`seal_stored_secrets`] seals them.
fn open_secret(
    auth: &crate::auth::Auth,
    user: &User,
    stored: Option<&str>,
) -> Result<Option<String>, AppError> {
    match stored {
        None => Ok(None),
        Some(s) if Sealer::is_sealed(s) => auth
            .totp_sealer
            .open(s, &user.id)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("user {}: {e}", user.id).into()),
        Some(legacy) => Ok(Some(legacy.to_owned())),
    }
}

/// Seals every TOTP secret still stored in the clear (from before secrets were sealed); run at
/// start-up. Returns how many were sealed.
pub async fn seal_stored_secrets(db: &crate::db::Db, sealer: &Sealer) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin(Scope::System).await?;
    let clear = users::unsealed_totp_secrets(&mut tx).await?;
    let mut sealed = 0;
    for (id, secret, pending) in clear {
        let seal = |v: Option<String>| {
            v.map(|v| {
                if Sealer::is_sealed(&v) {
                    v
                } else {
                    sealer.seal(&v, &id)
                }
            })
        };
        users::store_totp_secrets(&mut tx, &id, seal(secret), seal(pending)).await?;
        sealed += 1;
    }
    tx.commit().await?;
    Ok(sealed)
}

/// Starts TOTP enrolment with a fresh secret; nothing changes for sign-in until it is
/// confirmed with a code. The current password is asked again first, so a session left open
/// on someone else's screen cannot bind their device to the account.
pub async fn start_enrolment(
    state: &AppState,
    user: &User,
    password_given: String,
) -> Result<Enrolment, AppError> {
    state.auth.limiter.check_lockout(&user.email)?;
    if !password::verify_blocking(password_given, Some(user.password_hash.clone())).await {
        state.auth.limiter.record_failure(&user.email);
        return Err(AppError::field(
            "password",
            "That is not your current password.",
        ));
    }
    if user.has_mfa() {
        return Err(AppError::Conflict(
            "mfa_enabled",
            "Two-factor authentication is already on. Turn it off first to enrol a new device."
                .into(),
        ));
    }
    let secret = totp::new_secret();
    let url = totp::otpauth_url(&secret, &user.email)
        .ok_or_else(|| anyhow::anyhow!("could not build the otpauth URL"))?;
    let qr_svg =
        totp::qr_svg(&url).ok_or_else(|| anyhow::anyhow!("could not render the QR code"))?;
    let mut tx = state.db.begin(Scope::System).await?;
    let sealed = state.auth.totp_sealer.seal(&secret, &user.id);
    users::set_totp_pending(&mut tx, &user.id, &sealed).await?;
    tx.commit().await?;
    Ok(Enrolment {
        secret,
        otpauth_url: url,
        qr_svg,
    })
}

/// Confirms enrolment with a first code and returns the recovery codes, shown once.
pub async fn confirm_enrolment(
    state: &AppState,
    user: &User,
    code: &str,
    origin: &Origin,
) -> Result<Vec<String>, AppError> {
    let auth = &state.auth;
    auth.limiter.check_lockout(&user.email)?;
    let now = auth.now();
    let Some(pending) = open_secret(auth, user, user.totp_pending_secret.as_deref())? else {
        return Err(AppError::Conflict(
            "no_enrolment",
            "Start enrolment first.".into(),
        ));
    };
    let Some(step) = totp::matching_step(&pending, code, now) else {
        auth.limiter.record_failure(&user.email);
        return Err(AppError::field(
            "code",
            "That code does not match. Check the time on your device and try the next code.",
        ));
    };
    let mut tx = state.db.begin(Scope::System).await?;
    if !users::enable_totp(&mut tx, &user.id, step, now).await? {
        return Err(AppError::Conflict(
            "no_enrolment",
            "Start enrolment first.".into(),
        ));
    }
    let codes = one_time::replace_recovery_codes(&mut tx, &auth.recovery_key, &user.id).await?;
    audit_user(
        &mut tx,
        Some(user),
        "mfa.enabled",
        origin,
        serde_json::json!({"method": "totp"}),
        now,
    )
    .await?;
    tx.commit().await?;
    auth.limiter.record_success(&user.email);
    Ok(codes)
}

/// Turns TOTP off; needs the password and a current code.
pub async fn disable(
    state: &AppState,
    user: &User,
    password_given: String,
    code: &str,
    origin: &Origin,
) -> Result<(), AppError> {
    if !user.has_mfa() {
        return Err(AppError::Conflict(
            "mfa_disabled",
            "Two-factor authentication is not on.".into(),
        ));
    }
    state.auth.limiter.check_lockout(&user.email)?;
    if !password::verify_blocking(password_given, Some(user.password_hash.clone())).await {
        state.auth.limiter.record_failure(&user.email);
        return Err(AppError::field(
            "password",
            "That is not your current password.",
        ));
    }
    check_code(state, user, code, origin).await?;
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    users::disable_totp(&mut tx, &user.id).await?;
    one_time::delete_recovery_codes(&mut tx, &user.id).await?;
    audit_user(
        &mut tx,
        Some(user),
        "mfa.disabled",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the recovery codes; needs a current code.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    user: &User,
    code: &str,
    origin: &Origin,
) -> Result<Vec<String>, AppError> {
    if !user.has_mfa() {
        return Err(AppError::Conflict(
            "mfa_disabled",
            "Two-factor authentication is not on.".into(),
        ));
    }
    check_code(state, user, code, origin).await?;
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let codes =
        one_time::replace_recovery_codes(&mut tx, &state.auth.recovery_key, &user.id).await?;
    audit_user(
        &mut tx,
        Some(user),
        "mfa.recovery_codes_regenerated",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}
