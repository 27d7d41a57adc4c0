//! Sessions and their rotating refresh tokens.
//!
//! A session is a refresh-token family. Each refresh spends the presented token and issues the
//! next one; presenting a spent token means it was copied, so the whole family is revoked.
//! Sessions end after [`SessionPolicy::idle_ms`] without a refresh and
//! [`SessionPolicy::absolute_ms`] after sign-in, whichever comes first.

use serde::Serialize;

use super::secret::{random_token, token_digest};
use super::users::User;
use crate::db::Tx;
use crate::with_tx;

/// Lifetimes of access tokens and sessions (see `docs/security.md`).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// Access-token lifetime in seconds.
    pub access_ttl_secs: i64,
    /// A session unused for this long ends.
    pub idle_ms: i64,
    /// A session ends this long after sign-in regardless of use.
    pub absolute_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            access_ttl_secs: 5 * 60,
            idle_ms: 24 * 3_600_000,
            absolute_ms: 7 * 24 * 3_600_000,
        }
    }
}

/// One sign-in on one device.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Random id.
    pub id: String,
    /// Whose.
    #[serde(skip)]
    pub user_id: String,
    /// Sign-in time.
    pub created_at_ms: i64,
    /// Last refresh.
    pub last_used_at_ms: i64,
    /// Absolute end.
    pub expires_at_ms: i64,
    /// When revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at_ms: Option<i64>,
    /// Why (sign-out, reuse, password change…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
    /// Whether a second factor was presented.
    pub mfa: bool,
    /// Browser or client that signed in.
    pub user_agent: String,
    /// Address it signed in from.
    pub ip: String,
}

/// Where a sign-in came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Client address.
    pub ip: String,
    /// `User-Agent`, truncated.
    pub user_agent: String,
}

/// Starts a session and returns it with its first refresh token.
pub async fn create(
    tx: &mut Tx,
    user_id: &str,
    mfa: bool,
    origin: &Origin,
    now: i64,
    policy: SessionPolicy,
) -> Result<(Session, String), sqlx::Error> {
    let session = Session {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_owned(),
        created_at_ms: now,
        last_used_at_ms: now,
        expires_at_ms: now + policy.absolute_ms,
        revoked_at_ms: None,
        revoked_reason: None,
        mfa,
        user_agent: origin.user_agent.chars().take(200).collect(),
        ip: origin.ip.clone(),
    };
    with_tx!(tx, c => sqlx::query(
        r"insert into sessions (id, user_id, created_at_ms, last_used_at_ms, expires_at_ms, mfa, user_agent, ip)
          values ($1, $2, $3, $3, $4, $5, $6, $7)",
    )
    .bind(&session.id)
    .bind(user_id)
    .bind(now)
    .bind(session.expires_at_ms)
    .bind(mfa)
    .bind(&session.user_agent)
    .bind(&session.ip)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    let token = issue_refresh(tx, &session.id, now).await?;
    Ok((session, token))
}

async fn issue_refresh(tx: &mut Tx, session_id: &str, now: i64) -> Result<String, sqlx::Error> {
    let token = random_token(32);
    with_tx!(tx, c => sqlx::query(
        r"insert into refresh_tokens (token_hash, session_id, created_at_ms) values ($1, $2, $3)",
    )
    .bind(token_digest(&token))
    .bind(session_id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(token)
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Refreshed {
    /// The token was current: here is its successor.
    Rotated {
        /// The session, with `last_used_at_ms` updated.
        session: Session,
        /// The next refresh token.
        token: String,
    },
    /// The token was already spent: the family is now revoked.
    Reused {
        /// The revoked session.
        session_id: String,
        /// Its user.
        user_id: String,
    },
    /// Unknown token, or its session has ended.
    Invalid,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    session_id: String,
    used_at_ms: Option<i64>,
}

/// Spends `token` and issues its successor, or detects reuse.
pub async fn refresh(
    tx: &mut Tx,
    token: &str,
    now: i64,
    policy: SessionPolicy,
) -> Result<Refreshed, sqlx::Error> {
    let hash = token_digest(token);
    let row: Option<TokenRow> = with_tx!(tx, c => sqlx::query_as(
        r"select session_id, used_at_ms from refresh_tokens where token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(&mut *c)
    .await)?;
    let Some(row) = row else {
        return Ok(Refreshed::Invalid);
    };
    let Some(session) = by_id(tx, &row.session_id).await? else {
        return Ok(Refreshed::Invalid);
    };
    if row.used_at_ms.is_some() {
        if session.revoked_at_ms.is_none() {
            revoke(
                tx,
                &session.user_id,
                &session.id,
                "refresh token reused",
                now,
            )
            .await?;
        }
        return Ok(Refreshed::Reused {
            session_id: session.id,
            user_id: session.user_id,
        });
    }
    let ended = session.revoked_at_ms.is_some()
        || now >= session.expires_at_ms
        || now - session.last_used_at_ms >= policy.idle_ms;
    if ended {
        return Ok(Refreshed::Invalid);
    }
    let spent = with_tx!(tx, c => sqlx::query(
        r"update refresh_tokens set used_at_ms = $2 where token_hash = $1 and used_at_ms is null",
    )
    .bind(&hash)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    if spent != 1 {
        // Another request spent it between our read and write: that is reuse too.
        revoke(
            tx,
            &session.user_id,
            &session.id,
            "refresh token reused",
            now,
        )
        .await?;
        return Ok(Refreshed::Reused {
            session_id: session.id,
            user_id: session.user_id,
        });
    }
    with_tx!(tx, c => sqlx::query(r"update sessions set last_used_at_ms = $2 where id = $1")
        .bind(&session.id)
        .bind(now)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    let token = issue_refresh(tx, &session.id, now).await?;
    Ok(Refreshed::Rotated {
        session: Session {
            last_used_at_ms: now,
            ..session
        },
        token,
    })
}

/// The session with this id.
pub async fn by_id(tx: &mut Tx, id: &str) -> Result<Option<Session>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from sessions where id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// The user behind an access token, if its session is still live and the account enabled.
/// Called on every authenticated request, so revoking a session or disabling an account takes
/// effect at once rather than when the access token expires.
pub async fn live_user(
    tx: &mut Tx,
    session_id: &str,
    user_id: &str,
    now: i64,
) -> Result<Option<User>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select u.* from users u join sessions s on s.user_id = u.id
          where s.id = $1 and u.id = $2 and s.revoked_at_ms is null and s.expires_at_ms > $3
            and u.disabled_at_ms is null",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(now)
    .fetch_optional(&mut *c)
    .await)
}

/// The user's sessions that have not ended, newest first.
pub async fn list_live(
    tx: &mut Tx,
    user_id: &str,
    now: i64,
    policy: SessionPolicy,
) -> Result<Vec<Session>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select * from sessions
          where user_id = $1 and revoked_at_ms is null and expires_at_ms > $2 and last_used_at_ms > $3
          order by created_at_ms desc",
    )
    .bind(user_id)
    .bind(now)
    .bind(now - policy.idle_ms)
    .fetch_all(&mut *c)
    .await)
}

/// Revokes one of the user's sessions; false when there is no such live session.
pub async fn revoke(
    tx: &mut Tx,
    user_id: &str,
    session_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update sessions set revoked_at_ms = $3, revoked_reason = $4
          where id = $1 and user_id = $2 and revoked_at_ms is null",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(now)
    .bind(reason)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Revokes every session of the user except `keep`; returns how many ended.
pub async fn revoke_all(
    tx: &mut Tx,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update sessions set revoked_at_ms = $2, revoked_reason = $3
          where user_id = $1 and revoked_at_ms is null and id <> $4",
    )
    .bind(user_id)
    .bind(now)
    .bind(reason)
    .bind(keep.unwrap_or(""))
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done)
}
