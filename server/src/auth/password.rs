//! Password policy and storage: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane),
//! at least 8 and up to 256 characters, no composition rules, and none of the ~20,000 most
//! common passwords (`data/common-passwords.txt.gz`).

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 8;
/// Longest password accepted, in characters.
pub const MAX_CHARS: usize = 256;
/// argon2id memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// argon2id passes.
pub const ITERATIONS: u32 = 2;
/// argon2id lanes.
pub const PARALLELISM: u32 = 1;

static COMMON_GZ: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");

/// The shipped list, keeping only entries long enough to pass the length rule.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut text = String::new();
    let decoded = flate2::read::GzDecoder::new(COMMON_GZ).read_to_string(&mut text);
    debug_assert!(decoded.is_ok(), "the shipped password list is valid gzip");
    text.lines()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| l.chars().count() >= MIN_CHARS)
        .collect()
});

/// A hash of a random password, verified against when the email is unknown so that sign-in
/// takes as long for a missing account as for a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash(&crate::auth::secret::random_token(16)).unwrap_or_default());

/// Why a new password is refused; the message is shown next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_CHARS`] characters.
    #[error("Use at least 8 characters.")]
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    #[error("Use at most 256 characters.")]
    TooLong,
    /// On the list of common passwords, or the account's own email address.
    #[error("This password is too common; choose one that is harder to guess.")]
    Common,
}

/// Checks a new password against the policy. `email` is refused as a password too.
pub fn check_policy(password: &str, email: &str) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lowered = password.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    if COMMON.contains(&lowered) || lowered == email || lowered == local_part {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` to a PHC string with a fresh random salt. CPU-bound (tens of
/// milliseconds): call it from a blocking task.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(hasher().hash_password(password.as_bytes())?.to_string())
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as [`verify`] on a hash that matches nothing.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY_HASH);
}

/// Runs [`hash`] on the blocking pool.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || hash(&password)).await??)
}

/// Runs [`verify`] on the blocking pool; `None` as the stored hash runs [`verify_dummy`].
pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(stored) => verify(&password, &stored),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules_count_characters_not_bytes() {
        assert_eq!(
            check_policy("short", "a@b.c"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(check_policy("éééééééé", "a@b.c"), Ok(()));
        assert_eq!(check_policy(&"x".repeat(128), "a@b.c"), Ok(()));
        assert_eq!(check_policy(&"x".repeat(256), "a@b.c"), Ok(()));
        assert_eq!(
            check_policy(&"x".repeat(257), "a@b.c"),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn common_passwords_and_the_email_are_refused_without_composition_rules() {
        assert_eq!(
            check_policy("password", "a@b.c"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_policy("PassWord1", "a@b.c"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_policy("12345678", "a@b.c"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_policy("alice.smith", "alice.smith@x.io"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(check_policy("correct horse battery", "a@b.c"), Ok(()));
        assert_eq!(check_policy("alllowercaseletters", "a@b.c"), Ok(()));
    }

    #[test]
    fn the_shipped_list_loads() {
        assert!(
            COMMON.len() > 5_000,
            "list has {} long entries",
            COMMON.len()
        );
    }

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash("correct horse battery").expect("hash");
        let b = hash("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterx", &a));
        assert!(!verify("anything", "not a phc string"));
    }
}
