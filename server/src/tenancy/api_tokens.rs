//! API tokens for CI and the CLI: `flt_<id prefix>_<secret>`, shown once, stored as a digest,
//! scoped to a subset of permissions in one organisation, with an expiry.
//!
//! A *personal* token acts as its user (and stops working when they leave); an *org* token acts
//! as the organisation itself, with exactly its scopes.

use serde::Serialize;

use crate::auth::secret::{random_token, token_digest};
use crate::db::Tx;
use crate::with_tx;

/// Every token starts with this, so secret scanners and our own extractor recognise it.
pub const PREFIX: &str = "flt_";
/// Longest lifetime a token may be given.
pub const MAX_TTL_DAYS: i64 = 366;

/// A token as listed (never with its secret).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Random id.
    pub id: String,
    /// Organisation it works in.
    #[serde(skip)]
    pub org_id: String,
    /// Creator, and for personal tokens the user it acts as.
    pub user_id: String,
    /// `personal` or `org`.
    pub kind: String,
    /// Label.
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    /// Comma-separated permission names.
    #[serde(skip)]
    pub scopes: String,
    /// Creation time.
    pub created_at_ms: i64,
    /// Expiry.
    pub expires_at_ms: i64,
    /// Last use.
    pub last_used_at_ms: Option<i64>,
    /// When revoked.
    pub revoked_at_ms: Option<i64>,
}

/// Stores a new token and returns its secret form, shown once.
pub async fn insert(tx: &mut Tx, token: &ApiToken) -> Result<String, sqlx::Error> {
    let secret = format!("{PREFIX}{}_{}", &token.prefix, random_token(32));
    with_tx!(tx, c => sqlx::query(
        r"insert into api_tokens (id, org_id, user_id, kind, name, token_hash, prefix, scopes, created_at_ms, expires_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&token.id)
    .bind(&token.org_id)
    .bind(&token.user_id)
    .bind(&token.kind)
    .bind(&token.name)
    .bind(token_digest(&secret))
    .bind(&token.prefix)
    .bind(&token.scopes)
    .bind(token.created_at_ms)
    .bind(token.expires_at_ms)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(secret)
}

const SELECT: &str = r"select id, org_id, user_id, kind, name, prefix, scopes, created_at_ms, expires_at_ms, last_used_at_ms, revoked_at_ms from api_tokens";

/// The organisation's tokens, newest first; `only_user` limits the list to one creator.
pub async fn list(
    tx: &mut Tx,
    org_id: &str,
    only_user: Option<&str>,
) -> Result<Vec<ApiToken>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where org_id = $1 and ($2 = '' or user_id = $2) order by created_at_ms desc"
    )))
    .bind(org_id)
    .bind(only_user.unwrap_or(""))
    .fetch_all(&mut *c)
    .await)
}

/// One token of the organisation.
pub async fn get(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<ApiToken>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where org_id = $1 and id = $2")))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// The live token whose secret is `secret`.
pub async fn authenticate(
    tx: &mut Tx,
    secret: &str,
    now: i64,
) -> Result<Option<ApiToken>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where token_hash = $1 and revoked_at_ms is null and expires_at_ms > $2"
    )))
    .bind(token_digest(secret))
    .bind(now)
    .fetch_optional(&mut *c)
    .await)
}

/// How stale `last_used_at_ms` may get: one write a minute per token, not one per call.
pub const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// Records that the token was used at `now`.
pub async fn mark_used(tx: &mut Tx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"update api_tokens set last_used_at_ms = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes a token of the organisation; false when there is no such live token.
pub async fn revoke(tx: &mut Tx, org_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update api_tokens set revoked_at_ms = $3 where org_id = $1 and id = $2 and revoked_at_ms is null",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
