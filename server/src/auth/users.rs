//! The `users` table: accounts, their second factor and their preferences.

use crate::db::Tx;
use crate::with_tx;

/// An account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    /// Random id.
    pub id: String,
    /// Normalised email address.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the address was proven, if it was.
    pub email_verified_at_ms: Option<i64>,
    /// When the account was disabled, if it is.
    pub disabled_at_ms: Option<i64>,
    /// When the password last changed; sessions older than this are gone.
    pub password_changed_at_ms: i64,
    /// Base32 TOTP secret, once enrolment is confirmed.
    pub totp_secret: Option<String>,
    /// Base32 TOTP secret awaiting its first code.
    pub totp_pending_secret: Option<String>,
    /// When TOTP was turned on.
    pub totp_enabled_at_ms: Option<i64>,
    /// The last TOTP time step accepted: codes of this step or earlier are replays.
    pub totp_last_step: Option<i64>,
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// Test framework the generator defaults to.
    pub default_framework: String,
    /// IANA time zone for dates in the UI.
    pub time_zone: String,
    /// When the account was created.
    pub created_at_ms: i64,
}

impl User {
    /// Whether sign-in needs a second factor.
    pub fn has_mfa(&self) -> bool {
        self.totp_secret.is_some()
    }
}

/// Creates an account.
pub async fn insert(
    tx: &mut Tx,
    id: &str,
    email: &str,
    password_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into users (id, email, password_hash, password_changed_at_ms, created_at_ms)
          values ($1, $2, $3, $4, $4)",
    )
    .bind(id)
    .bind(email)
    .bind(password_hash)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The account with this (normalised) email.
pub async fn by_email(tx: &mut Tx, email: &str) -> Result<Option<User>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from users where email = $1")
        .bind(email)
        .fetch_optional(&mut *c)
        .await)
}

/// The account with this id.
pub async fn by_id(tx: &mut Tx, id: &str) -> Result<Option<User>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from users where id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// Replaces the password hash.
pub async fn set_password(tx: &mut Tx, id: &str, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update users set password_hash = $2, password_changed_at_ms = $3 where id = $1",
    )
    .bind(id)
    .bind(hash)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records that the user proved they receive mail at their address.
pub async fn mark_verified(tx: &mut Tx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update users set email_verified_at_ms = coalesce(email_verified_at_ms, $2) where id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Disables (`Some(now)`) or re-enables (`None`) an account.
pub async fn set_disabled(tx: &mut Tx, id: &str, at: Option<i64>) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"update users set disabled_at_ms = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Stores a TOTP secret awaiting confirmation.
pub async fn set_totp_pending(tx: &mut Tx, id: &str, secret: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"update users set totp_pending_secret = $2 where id = $1")
        .bind(id)
        .bind(secret)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Users whose TOTP secret or pending secret is stored unsealed: (id, secret, pending).
pub async fn unsealed_totp_secrets(
    tx: &mut Tx,
) -> Result<Vec<(String, Option<String>, Option<String>)>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select id, totp_secret, totp_pending_secret from users
          where (totp_secret is not null and totp_secret not like 'v1.%')
             or (totp_pending_secret is not null and totp_pending_secret not like 'v1.%')",
    )
    .fetch_all(&mut *c)
    .await)
}

/// Replaces a user's stored TOTP secret and pending secret.
pub async fn store_totp_secrets(
    tx: &mut Tx,
    id: &str,
    secret: Option<String>,
    pending: Option<String>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update users set totp_secret = $2, totp_pending_secret = $3 where id = $1",
    )
    .bind(id)
    .bind(secret)
    .bind(pending)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Turns TOTP on with the pending secret, recording the step that confirmed it.
pub async fn enable_totp(tx: &mut Tx, id: &str, step: i64, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update users set totp_secret = totp_pending_secret, totp_pending_secret = null,
                 totp_enabled_at_ms = $3, totp_last_step = $2
          where id = $1 and totp_pending_secret is not null",
    )
    .bind(id)
    .bind(step)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Turns TOTP off.
pub async fn disable_totp(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update users set totp_secret = null, totp_pending_secret = null,
                 totp_enabled_at_ms = null, totp_last_step = null
          where id = $1",
    )
    .bind(id)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Accepts TOTP time step `step` for the user unless it (or a later one) was already used:
/// the replay guard. True when accepted.
pub async fn accept_totp_step(tx: &mut Tx, id: &str, step: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update users set totp_last_step = $2
          where id = $1 and (totp_last_step is null or totp_last_step < $2)",
    )
    .bind(id)
    .bind(step)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Saves the user's preferences.
pub async fn set_preferences(
    tx: &mut Tx,
    id: &str,
    theme: &str,
    default_framework: &str,
    time_zone: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update users set theme = $2, default_framework = $3, time_zone = $4 where id = $1",
    )
    .bind(id)
    .bind(theme)
    .bind(default_framework)
    .bind(time_zone)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}
