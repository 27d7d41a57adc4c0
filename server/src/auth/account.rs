//! Account operations shared by the REST API and the pages' server functions: sign-up,
//! sign-in, refresh, sign-out, email verification, password reset and change.

use serde::Serialize;

use super::input::{Email, OrgSlug, parse_name};
use super::one_time::{self, Purpose};
use super::rate_limit::{self, RetryAfter};
use super::sessions::{self, Origin, Refreshed, Session};
use super::users::{self, User};
use super::{Auth, mail::Mail, mfa, password};
use crate::audit::{self, Event};
use crate::db::{Scope, Tx};
use crate::http::error::{AppError, FieldError};
use crate::state::AppState;
use crate::tenancy::orgs::{self, Org};
use crate::tenancy::permission::BuiltinRole;

impl From<RetryAfter> for AppError {
    fn from(r: RetryAfter) -> Self {
        Self::TooManyRequests(r.0)
    }
}

/// A signed-in session, as handed to the client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issued {
    /// The account.
    pub user: UserSummary,
    /// The session.
    pub session: Session,
    /// Access JWT (also set as a cookie); send as `Authorization: Bearer` from non-browser
    /// clients.
    pub access_token: String,
    /// When the access token expires.
    pub access_expires_at_ms: i64,
    /// The refresh token; set only as an HttpOnly cookie, never in the body.
    #[serde(skip)]
    pub refresh_token: String,
}

/// The public fields of an account.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    /// Id.
    pub id: String,
    /// Email.
    pub email: String,
    /// Whether the address is verified.
    pub email_verified: bool,
    /// Whether TOTP is on.
    pub mfa_enabled: bool,
}

impl From<&User> for UserSummary {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified_at_ms.is_some(),
            mfa_enabled: u.has_mfa(),
        }
    }
}

fn issue(
    auth: &Auth,
    user: &User,
    session: Session,
    refresh_token: String,
    now: i64,
) -> Result<Issued, AppError> {
    let ttl = auth.policy.access_ttl_secs;
    let access_token = auth
        .jwt
        .issue(&user.id, &session.id, session.mfa, now, ttl)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Issued {
        user: user.into(),
        session,
        access_token,
        access_expires_at_ms: now + ttl * 1000,
        refresh_token,
    })
}

/// Appends an event about a person to the chain of every organisation they belong to (or the
/// instance chain if none).
pub async fn audit_user(
    tx: &mut Tx,
    user: Option<&User>,
    action: &'static str,
    origin: &Origin,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let org_ids = match user {
        Some(u) => orgs::for_user(tx, &u.id)
            .await?
            .into_iter()
            .map(|(o, _)| o.id)
            .collect(),
        None => Vec::new(),
    };
    let org_ids = if org_ids.is_empty() {
        vec![String::new()]
    } else {
        org_ids
    };
    for org_id in org_ids {
        let event = Event {
            org_id,
            actor_id: user.map(|u| u.id.clone()).unwrap_or_default(),
            actor: user.map_or_else(|| "anonymous".to_owned(), |u| u.email.clone()),
            action,
            target: user.map(|u| u.id.clone()).unwrap_or_default(),
            ip: origin.ip.clone(),
            detail: detail.clone(),
        };
        audit::append(tx, &event, now).await?;
    }
    Ok(())
}

/// What sign-up needs.
#[derive(Debug, Clone)]
pub struct SignupInput {
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// Name of the first organisation.
    pub org_name: String,
}

/// Creates an account with its first organisation (owned by it) and signs it in.
pub async fn signup(
    state: &AppState,
    origin: &Origin,
    input: SignupInput,
) -> Result<(Issued, Org), AppError> {
    let auth = &state.auth;
    auth.limiter
        .attempt(rate_limit::SIGNUP_PER_IP, &origin.ip)?;
    let mut fields = Vec::new();
    let email = Email::parse(&input.email)
        .map_err(|m| {
            fields.push(FieldError {
                field: "email",
                message: m.into(),
            })
        })
        .ok();
    let org_name = parse_name(&input.org_name)
        .map_err(|m| {
            fields.push(FieldError {
                field: "org_name",
                message: m.into(),
            })
        })
        .ok();
    if let Err(problem) =
        password::check_policy(&input.password, email.as_ref().map_or("", Email::as_str))
    {
        fields.push(FieldError {
            field: "password",
            message: problem.to_string(),
        });
    }
    let (Some(email), Some(org_name), true) = (email, org_name, fields.is_empty()) else {
        return Err(AppError::Invalid(fields));
    };
    let hash = password::hash_blocking(input.password).await?;
    let now = auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    if users::by_email(&mut tx, email.as_str()).await?.is_some() {
        return Err(AppError::field(
            "email",
            "An account with this email already exists. Sign in instead.",
        ));
    }
    let user_id = uuid::Uuid::new_v4().to_string();
    users::insert(&mut tx, &user_id, email.as_str(), &hash, now).await?;
    let org = create_org(&mut tx, &user_id, &org_name, None, now).await?;
    let user = users::by_id(&mut tx, &user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (session, refresh) =
        sessions::create(&mut tx, &user.id, false, origin, now, auth.policy).await?;
    let verify = one_time::issue(&mut tx, &user.id, Purpose::VerifyEmail, now).await?;
    audit_user(
        &mut tx,
        Some(&user),
        "auth.signup",
        origin,
        serde_json::json!({"org": org.slug}),
        now,
    )
    .await?;
    tx.commit().await?;
    auth.mailer
        .send(verification_mail(auth, &user.email, &verify))
        .await;
    Ok((issue(auth, &user, session, refresh, now)?, org))
}

/// Creates an organisation owned by `owner_id`, choosing a free slug if none is given.
pub async fn create_org(
    tx: &mut Tx,
    owner_id: &str,
    name: &str,
    slug: Option<OrgSlug>,
    now: i64,
) -> Result<Org, AppError> {
    let slug = match slug {
        Some(slug) if orgs::slug_taken(tx, slug.as_str()).await? => {
            return Err(AppError::field(
                "slug",
                "That address is taken; choose another.",
            ));
        }
        Some(slug) => slug.as_str().to_owned(),
        None => free_slug(tx, OrgSlug::from_name(name).as_str()).await?,
    };
    let org = Org {
        id: uuid::Uuid::new_v4().to_string(),
        slug,
        name: name.to_owned(),
        require_mfa: false,
        created_at_ms: now,
    };
    orgs::insert(tx, &org).await?;
    orgs::add_member(tx, &org.id, owner_id, BuiltinRole::Owner.key(), now).await?;
    Ok(org)
}

async fn free_slug(tx: &mut Tx, base: &str) -> Result<String, sqlx::Error> {
    if !orgs::slug_taken(tx, base).await? {
        return Ok(base.to_owned());
    }
    for n in 2..50 {
        let candidate = format!("{base}-{n}");
        if !orgs::slug_taken(tx, &candidate).await? {
            return Ok(candidate);
        }
    }
    Ok(format!(
        "{base}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
}

fn verification_mail(auth: &Auth, to: &str, token: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Confirm your email address for Faultline".into(),
        body: format!(
            "Confirm that this is your address by opening this link within 24 hours:\n\n{}/verify-email?token={token}\n\nIf you did not sign up for Faultline, ignore this message.\n",
            auth.public_url
        ),
    }
}

fn invalid_credentials() -> AppError {
    AppError::Unauthorized(
        "invalid_credentials",
        "The email or password is incorrect.".into(),
    )
}

/// Signs in with email, password and (when enrolled) a TOTP or recovery code.
pub async fn login(
    state: &AppState,
    origin: &Origin,
    email: &str,
    password: String,
    code: Option<String>,
) -> Result<Issued, AppError> {
    let auth = &state.auth;
    auth.limiter.attempt(rate_limit::LOGIN_PER_IP, &origin.ip)?;
    let account_key = email.trim().to_lowercase();
    auth.limiter.check_lockout(&account_key)?;
    let mut tx = state.db.begin_read(Scope::System).await?;
    let user = users::by_email(&mut tx, &account_key).await?;
    drop(tx);
    let ok =
        password::verify_blocking(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let now = auth.now();
    let user = match user {
        Some(user) if ok => user,
        user => {
            auth.limiter.record_failure(&account_key);
            let mut tx = state.db.begin(Scope::System).await?;
            audit_user(
                &mut tx,
                user.as_ref(),
                "auth.login_failed",
                origin,
                serde_json::json!({"reason": "password", "email": account_key}),
                now,
            )
            .await?;
            tx.commit().await?;
            return Err(invalid_credentials());
        }
    };
    if user.disabled_at_ms.is_some() {
        return Err(AppError::Unauthorized(
            "account_disabled",
            "This account is disabled.".into(),
        ));
    }
    if user.has_mfa() {
        let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
            return Err(AppError::Unauthorized(
                "mfa_required",
                "Enter the code from your authenticator app.".into(),
            ));
        };
        mfa::check_code(state, &user, &code, origin).await?;
    }
    auth.limiter.record_success(&account_key);
    let mut tx = state.db.begin(Scope::System).await?;
    let (session, refresh) =
        sessions::create(&mut tx, &user.id, user.has_mfa(), origin, now, auth.policy).await?;
    audit_user(
        &mut tx,
        Some(&user),
        "auth.login",
        origin,
        serde_json::json!({"session": session.id, "mfa": session.mfa}),
        now,
    )
    .await?;
    tx.commit().await?;
    issue(auth, &user, session, refresh, now)
}

/// Spends a refresh token for a new access token and refresh token.
pub async fn refresh(state: &AppState, origin: &Origin, token: &str) -> Result<Issued, AppError> {
    let auth = &state.auth;
    let now = auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    match sessions::refresh(&mut tx, token, now, auth.policy).await? {
        Refreshed::Rotated { session, token } => {
            let user = users::by_id(&mut tx, &session.user_id)
                .await?
                .filter(|u| u.disabled_at_ms.is_none());
            let Some(user) = user else {
                return Err(AppError::Unauthorized(
                    "session_ended",
                    "Your session has ended; sign in again.".into(),
                ));
            };
            tx.commit().await?;
            issue(auth, &user, session, token, now)
        }
        Refreshed::Reused {
            session_id,
            user_id,
        } => {
            let user = users::by_id(&mut tx, &user_id).await?;
            audit_user(
                &mut tx,
                user.as_ref(),
                "auth.refresh_reused",
                origin,
                serde_json::json!({"session": session_id}),
                now,
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(session = %session_id, "a spent refresh token was presented; the session is revoked");
            Err(AppError::Unauthorized(
                "session_revoked",
                "This session was ended because its token was used twice; sign in again.".into(),
            ))
        }
        Refreshed::Invalid => Err(AppError::Unauthorized(
            "session_ended",
            "Your session has ended; sign in again.".into(),
        )),
    }
}

/// Ends one session of `user` (sign-out, or revoking a session from the list).
pub async fn end_session(
    state: &AppState,
    user: &User,
    origin: &Origin,
    session_id: &str,
    action: &'static str,
) -> Result<(), AppError> {
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    if !sessions::revoke(&mut tx, &user.id, session_id, action, now).await? {
        return Err(AppError::NotFound);
    }
    audit_user(
        &mut tx,
        Some(user),
        action,
        origin,
        serde_json::json!({"session": session_id}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of `user`.
pub async fn end_all_sessions(
    state: &AppState,
    user: &User,
    origin: &Origin,
) -> Result<u64, AppError> {
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let ended = sessions::revoke_all(&mut tx, &user.id, None, "signed out everywhere", now).await?;
    audit_user(
        &mut tx,
        Some(user),
        "auth.logout_all",
        origin,
        serde_json::json!({"sessions": ended}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Confirms an email address with the token from the verification mail.
pub async fn verify_email(state: &AppState, origin: &Origin, token: &str) -> Result<(), AppError> {
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let Some(user_id) = one_time::spend(&mut tx, token, Purpose::VerifyEmail, now).await? else {
        return Err(AppError::BadRequest(
            "This link is not valid or has expired. Ask for a new one from your account page."
                .into(),
        ));
    };
    users::mark_verified(&mut tx, &user_id, now).await?;
    let user = users::by_id(&mut tx, &user_id).await?;
    audit_user(
        &mut tx,
        user.as_ref(),
        "auth.email_verified",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Mails a fresh verification link to the signed-in user.
pub async fn resend_verification(
    state: &AppState,
    user: &User,
    origin: &Origin,
) -> Result<(), AppError> {
    state.auth.limiter.attempt(
        rate_limit::RESET_PER_ACCOUNT,
        &format!("verify:{}", user.id),
    )?;
    if user.email_verified_at_ms.is_some() {
        return Err(AppError::Conflict(
            "already_verified",
            "Your email address is already confirmed.".into(),
        ));
    }
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let token = one_time::issue(&mut tx, &user.id, Purpose::VerifyEmail, now).await?;
    audit_user(
        &mut tx,
        Some(user),
        "auth.verification_resent",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    state
        .auth
        .mailer
        .send(verification_mail(&state.auth, &user.email, &token))
        .await;
    Ok(())
}

/// Mails a reset link if the address has an account. Answers the same either way, so the
/// response does not reveal who has an account.
pub async fn request_reset(state: &AppState, origin: &Origin, email: &str) -> Result<(), AppError> {
    let auth = &state.auth;
    auth.limiter.attempt(rate_limit::RESET_PER_IP, &origin.ip)?;
    let Ok(email) = Email::parse(email) else {
        return Err(AppError::field(
            "email",
            "Enter an email address like name@example.com.",
        ));
    };
    auth.limiter
        .attempt(rate_limit::RESET_PER_ACCOUNT, email.as_str())?;
    let now = auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let Some(user) = users::by_email(&mut tx, email.as_str()).await? else {
        return Ok(());
    };
    let token = one_time::issue(&mut tx, &user.id, Purpose::ResetPassword, now).await?;
    audit_user(
        &mut tx,
        Some(&user),
        "auth.password_reset_requested",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    auth.mailer.send(Mail {
        to: user.email.clone(),
        subject: "Reset your Faultline password".into(),
        body: format!(
            "Someone asked to reset the password of this account. To choose a new password, open this link within an hour:\n\n{}/reset-password?token={token}\n\nIf it was not you, ignore this message: your password stays as it is.\n",
            auth.public_url
        ),
    }).await;
    Ok(())
}

/// Sets a new password with a reset token. Ends every session and does not sign in: the next
/// sign-in still asks for the second factor.
pub async fn confirm_reset(
    state: &AppState,
    origin: &Origin,
    token: &str,
    new_password: String,
) -> Result<(), AppError> {
    let now = state.auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    let Some(user_id) = one_time::spend(&mut tx, token, Purpose::ResetPassword, now).await? else {
        return Err(AppError::BadRequest(
            "This reset link is not valid, was already used or has expired. Ask for a new one."
                .into(),
        ));
    };
    let user = users::by_id(&mut tx, &user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Dropping `tx` on a policy failure rolls back the spend, so the link still works.
    password::check_policy(&new_password, &user.email)
        .map_err(|p| AppError::field("password", p.to_string()))?;
    let hash = password::hash_blocking(new_password).await?;
    users::set_password(&mut tx, &user.id, &hash, now).await?;
    sessions::revoke_all(&mut tx, &user.id, None, "password reset", now).await?;
    users::mark_verified(&mut tx, &user.id, now).await?;
    audit_user(
        &mut tx,
        Some(&user),
        "auth.password_reset",
        origin,
        serde_json::json!({}),
        now,
    )
    .await?;
    tx.commit().await?;
    state.auth.limiter.record_success(&user.email);
    Ok(())
}

/// Changes the password of a signed-in user, who must give the current one. Other sessions end.
pub async fn change_password(
    state: &AppState,
    user: &User,
    session_id: &str,
    origin: &Origin,
    current: String,
    new_password: String,
) -> Result<(), AppError> {
    let auth = &state.auth;
    auth.limiter.check_lockout(&user.email)?;
    if !password::verify_blocking(current, Some(user.password_hash.clone())).await {
        auth.limiter.record_failure(&user.email);
        return Err(AppError::field(
            "current_password",
            "That is not your current password.",
        ));
    }
    password::check_policy(&new_password, &user.email)
        .map_err(|p| AppError::field("new_password", p.to_string()))?;
    let hash = password::hash_blocking(new_password).await?;
    let now = auth.now();
    let mut tx = state.db.begin(Scope::System).await?;
    users::set_password(&mut tx, &user.id, &hash, now).await?;
    one_time::spend_all(&mut tx, &user.id, Purpose::ResetPassword, now).await?;
    let ended =
        sessions::revoke_all(&mut tx, &user.id, Some(session_id), "password changed", now).await?;
    audit_user(
        &mut tx,
        Some(user),
        "auth.password_changed",
        origin,
        serde_json::json!({"other_sessions_ended": ended}),
        now,
    )
    .await?;
    tx.commit().await?;
    auth.limiter.record_success(&user.email);
    Ok(())
}

/// What [`set_disabled`] did.
#[derive(Debug)]
pub struct Disabled {
    /// The account.
    pub user: User,
    /// Whether it changed (it was not already in the asked state).
    pub changed: bool,
    /// Sessions ended.
    pub sessions_ended: u64,
    /// Organisations whose audit logs record the change.
    pub orgs: usize,
}

/// Disables (or re-enables) the account with `email`, for the server's operator: a disabled
/// account cannot sign in, its sessions end now, and its tokens and any access token still in
/// a browser are refused from the next request. Recorded on the instance's audit chain and in
/// each of its organisations' logs. `None` when no account has that address.
pub async fn set_disabled(
    db: &crate::Db,
    email: &str,
    disabled: bool,
    actor: &str,
    now: i64,
) -> Result<Option<Disabled>, sqlx::Error> {
    let mut tx = db.begin(Scope::System).await?;
    let Some(user) = users::by_email(&mut tx, &email.trim().to_lowercase()).await? else {
        return Ok(None);
    };
    let changed = user.disabled_at_ms.is_some() != disabled;
    let mut sessions_ended = 0;
    let mut orgs_logged = 0;
    if changed {
        users::set_disabled(&mut tx, &user.id, disabled.then_some(now)).await?;
        if disabled {
            sessions_ended =
                sessions::revoke_all(&mut tx, &user.id, None, "account disabled", now).await?;
        }
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        let orgs = orgs::for_user(&mut tx, &user.id).await?;
        orgs_logged = orgs.len();
        // The instance's chain (organisation '') and each organisation's.
        let chains = std::iter::once(String::new()).chain(orgs.into_iter().map(|(o, _)| o.id));
        for org_id in chains {
            let event = Event {
                org_id,
                actor_id: String::new(),
                actor: actor.to_owned(),
                action,
                target: user.email.clone(),
                ip: String::new(),
                detail: serde_json::json!({"sessions_ended": sessions_ended}),
            };
            audit::append(&mut tx, &event, now).await?;
        }
    }
    tx.commit().await?;
    Ok(Some(Disabled {
        user,
        changed,
        sessions_ended,
        orgs: orgs_logged,
    }))
}
