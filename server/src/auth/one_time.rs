//! Single-use secrets sent by mail (email verification, password reset) and MFA recovery
//! codes. Each is stored as a digest and spent by one conditional update, so two requests
//! racing with the same secret cannot both succeed.

use super::secret::{keyed_digest, random_token, token_digest};
use crate::db::Tx;
use crate::with_tx;

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the address receives mail; valid for a day.
    VerifyEmail,
    /// Lets the holder set a new password; valid for an hour.
    ResetPassword,
}

impl Purpose {
    fn key(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify",
            Self::ResetPassword => "reset",
        }
    }

    /// How long a token stays valid.
    pub fn ttl_ms(self) -> i64 {
        match self {
            Self::VerifyEmail => 24 * 3_600_000,
            Self::ResetPassword => 3_600_000,
        }
    }
}

/// Issues a token for `purpose`, invalidating earlier unspent ones of the same purpose.
pub async fn issue(
    tx: &mut Tx,
    user_id: &str,
    purpose: Purpose,
    now: i64,
) -> Result<String, sqlx::Error> {
    let token = random_token(32);
    with_tx!(tx, c => {
        sqlx::query(
            r"update email_tokens set used_at_ms = $3 where user_id = $1 and purpose = $2 and used_at_ms is null",
        )
        .bind(user_id)
        .bind(purpose.key())
        .bind(now)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())?;
        sqlx::query(
            r"insert into email_tokens (token_hash, user_id, purpose, created_at_ms, expires_at_ms)
              values ($1, $2, $3, $4, $5)",
        )
        .bind(token_digest(&token))
        .bind(user_id)
        .bind(purpose.key())
        .bind(now)
        .bind(now + purpose.ttl_ms())
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(token)
}

/// Spends every outstanding token of `purpose` for the user (after a password change, old
/// reset links must not work).
pub async fn spend_all(
    tx: &mut Tx,
    user_id: &str,
    purpose: Purpose,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update email_tokens set used_at_ms = $3 where user_id = $1 and purpose = $2 and used_at_ms is null",
    )
    .bind(user_id)
    .bind(purpose.key())
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Spends a token: the user id if it was current, `None` if unknown, spent or expired.
pub async fn spend(
    tx: &mut Tx,
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(
        r"update email_tokens set used_at_ms = $3
          where token_hash = $1 and purpose = $2 and used_at_ms is null and expires_at_ms > $3
          returning user_id",
    )
    .bind(token_digest(token))
    .bind(purpose.key())
    .bind(now)
    .fetch_optional(&mut *c)
    .await)
}

/// Number of recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

/// Ten fresh recovery codes (`xxxxx-xxxxx-xxxxx-xxxxx`, about 99 bits each) replacing any earlier
/// set. Returns the codes to show once.
pub async fn replace_recovery_codes(
    tx: &mut Tx,
    key: &[u8; 32],
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    with_tx!(tx, c => {
        sqlx::query(r"delete from recovery_codes where user_id = $1")
            .bind(user_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        for code in &codes {
            sqlx::query(r"insert into recovery_codes (user_id, code_hash) values ($1, $2)")
                .bind(user_id)
                .bind(keyed_digest(key, &normalise_recovery_code(code)))
                .execute(&mut *c)
                .await.map(|r| r.rows_affected())?;
        }
        Ok::<_, sqlx::Error>(())
    })?;
    Ok(codes)
}

/// Spends a recovery code; true if it was one of the user's unused codes.
pub async fn spend_recovery_code(
    tx: &mut Tx,
    key: &[u8; 32],
    user_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let normalised = normalise_recovery_code(code);
    let done = with_tx!(tx, c => sqlx::query(
        r"update recovery_codes set used_at_ms = $3 where user_id = $1 and code_hash = $2 and used_at_ms is null",
    )
    .bind(user_id)
    .bind(keyed_digest(key, &normalised))
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Unused recovery codes left.
pub async fn recovery_codes_left(tx: &mut Tx, user_id: &str) -> Result<i64, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(
        r"select count(*) from recovery_codes where user_id = $1 and used_at_ms is null",
    )
    .bind(user_id)
    .fetch_one(&mut *c)
    .await)
}

/// Removes every recovery code (when MFA is turned off).
pub async fn delete_recovery_codes(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"delete from recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

fn recovery_code() -> String {
    let bytes = super::secret::random_bytes::<20>();
    let mut code = String::with_capacity(23);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            code.push('-');
        }
        code.push(char::from(
            CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()],
        ));
    }
    code
}

/// Lower-cases and strips spaces, so `ABCDE-FGHIJ …` typed by hand still matches.
pub fn normalise_recovery_code(code: &str) -> String {
    code.trim().to_lowercase().replace([' ', '-'], "")
}

/// Whether `code` looks like a recovery code rather than a TOTP code.
pub fn looks_like_recovery_code(code: &str) -> bool {
    normalise_recovery_code(code).len() >= 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_have_the_documented_shape() {
        let code = recovery_code();
        assert_eq!(code.len(), 23, "{code}");
        assert_eq!(code.matches('-').count(), 3);
        assert!(looks_like_recovery_code(&code.to_uppercase()));
        assert!(!looks_like_recovery_code("123456"));
    }
}
