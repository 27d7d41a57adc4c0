//! Identity: accounts, passwords, sessions and their tokens, the second factor, outgoing mail
//! and the rate limits that guard all of it. See `docs/security.md` for the policies.

pub mod account;
pub mod caller;
pub mod cookies;
pub mod input;
pub mod jwt;
pub mod mail;
pub mod mfa;
pub mod one_time;
pub mod password;
pub mod rate_limit;
pub mod secret;
pub mod sessions;
pub mod totp;
pub mod users;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;

/// Keys, policies and helpers every authentication path shares. Built once at start-up.
pub struct Auth {
    /// Signs and checks access tokens.
    pub jwt: jwt::JwtKeys,
    /// Keys the digests of recovery codes.
    pub recovery_key: [u8; 32],
    /// Seals TOTP secrets at rest, each bound to its user.
    pub totp_sealer: crate::crypto::Sealer,
    /// Token and session lifetimes.
    pub policy: sessions::SessionPolicy,
    /// Attempt windows and lockouts.
    pub limiter: rate_limit::Limiter,
    /// Outgoing mail.
    pub mailer: mail::Mailer,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Whether cookies are `Secure` and `__Host-` prefixed (the public URL is https).
    pub secure_cookies: bool,
    /// Base of links in mail.
    pub public_url: String,
}

impl Auth {
    /// Derives the keys from the configured secret.
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let secret = config
            .secret_key
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("FAULTLINE_SECRET_KEY: no secret key resolved"))?;
        let jwt_key = secret::derive_key(secret.expose(), "access-token-hs256");
        Ok(Self {
            jwt: jwt::JwtKeys::new(&jwt_key, config.public_url.clone()),
            recovery_key: secret::derive_key(secret.expose(), "recovery-codes"),
            totp_sealer: crate::crypto::Sealer::new(secret.expose(), "totp"),
            policy: sessions::SessionPolicy::default(),
            limiter: rate_limit::Limiter::new(clock.clone()),
            mailer: mail::Mailer::from_config(config)?,
            clock,
            secure_cookies: config.behind_tls(),
            public_url: config.public_url.clone(),
        })
    }

    /// Now, from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
