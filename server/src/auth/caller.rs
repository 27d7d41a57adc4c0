//! Who is calling: resolved from `Authorization: Bearer` (an API token or an access JWT) or
//! the access cookie, and checked against the database on every request.

use axum::http::{HeaderMap, header};

use super::sessions::{self, Origin};
use super::users::{self, User};
use super::{Auth, cookies};
use crate::db::{Db, Scope};
use crate::http::error::AppError;
use crate::tenancy::api_tokens::{self, ApiToken, LAST_USED_GRANULARITY_MS};

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser or CLI session (access JWT).
    Session {
        /// The session id.
        session_id: String,
        /// Whether the session passed a second factor.
        mfa: bool,
    },
    /// An API token.
    Token(ApiToken),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account (for an org token, the account that created it).
    pub user: User,
    /// The credential presented.
    pub credential: Credential,
    /// Address and client.
    pub origin: Origin,
}

impl Caller {
    /// The session id, or 403 for API tokens: account management needs a signed-in person.
    pub fn session_id(&self) -> Result<&str, AppError> {
        match &self.credential {
            Credential::Session { session_id, .. } => Ok(session_id),
            Credential::Token(_) => Err(AppError::Forbidden(
                "session_required",
                "API tokens cannot manage accounts; sign in instead.".into(),
            )),
        }
    }

    /// An audit event by this caller in organisation `org_id`.
    pub fn event(
        &self,
        org_id: &str,
        action: &'static str,
        target: impl Into<String>,
        detail: serde_json::Value,
    ) -> crate::audit::Event {
        let (actor_id, actor) = self.actor();
        crate::audit::Event {
            org_id: org_id.to_owned(),
            actor_id,
            actor,
            action,
            target: target.into(),
            ip: self.origin.ip.clone(),
            detail,
        }
    }

    /// `(actor id, actor label)` for the audit log.
    pub fn actor(&self) -> (String, String) {
        match &self.credential {
            Credential::Token(t) if t.kind == "org" => (t.id.clone(), format!("token:{}", t.name)),
            Credential::Token(t) => (
                self.user.id.clone(),
                format!("{} (token:{})", self.user.email, t.name),
            ),
            Credential::Session { .. } => (self.user.id.clone(), self.user.email.clone()),
        }
    }
}

fn unauthenticated(message: &str) -> AppError {
    AppError::Unauthorized("unauthenticated", message.to_owned())
}

/// Resolves the caller from request headers: `Ok(None)` when no credential was presented,
/// 401 when one was presented and is not valid.
pub async fn resolve(
    auth: &Auth,
    db: &Db,
    headers: &HeaderMap,
    origin: Origin,
) -> Result<Option<Caller>, AppError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(str::trim)
        });
    let presented = match bearer {
        Some(Some(token)) => token,
        Some(None) => {
            return Err(unauthenticated(
                "Send credentials as `Authorization: Bearer <token>`.",
            ));
        }
        None => match cookies::read(headers, cookies::names(auth.secure_cookies).access) {
            Some(token) => token,
            None => return Ok(None),
        },
    };
    let now = auth.now();
    if presented.starts_with(api_tokens::PREFIX) {
        return token_caller(db, presented, origin, now).await.map(Some);
    }
    let claims = auth.jwt.verify(presented, now).map_err(|e| {
        tracing::debug!(error = %e, "access token refused");
        unauthenticated("Your session has expired or is not valid; sign in again.")
    })?;
    let mut tx = db.begin_read(Scope::System).await?;
    let user = sessions::live_user(&mut tx, &claims.sid, &claims.sub, now)
        .await?
        .ok_or_else(|| unauthenticated("Your session has ended; sign in again."))?;
    Ok(Some(Caller {
        user,
        credential: Credential::Session {
            session_id: claims.sid,
            mfa: claims.mfa,
        },
        origin,
    }))
}

async fn token_caller(db: &Db, secret: &str, origin: Origin, now: i64) -> Result<Caller, AppError> {
    let invalid = || unauthenticated("This API token is not valid, has expired or was revoked.");
    let mut tx = db.begin_read(Scope::System).await?;
    let token = api_tokens::authenticate(&mut tx, secret, now)
        .await?
        .ok_or_else(invalid)?;
    let user = users::by_id(&mut tx, &token.user_id)
        .await?
        .ok_or_else(invalid)?;
    drop(tx);
    if user.disabled_at_ms.is_some() {
        return Err(invalid());
    }
    if token
        .last_used_at_ms
        .is_none_or(|t| now - t >= LAST_USED_GRANULARITY_MS)
    {
        let mut tx = db.begin(Scope::System).await?;
        api_tokens::mark_used(&mut tx, &token.id, now).await?;
        tx.commit().await?;
    }
    Ok(Caller {
        user,
        credential: Credential::Token(token),
        origin,
    })
}
