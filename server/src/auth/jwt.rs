//! Access tokens: short-lived HS256 JWTs (RFC 9068 shape) signed with a key derived from the
//! server secret.
//!
//! Exactly one algorithm is accepted. `iss`, `aud`, `exp`, the header `typ` (`at+jwt`) and the
//! claim `typ` (`access`) are all checked, and expiry is judged by the injected [`Clock`] with
//! no leeway, so tests can age a token without sleeping.
//!
//! [`Clock`]: crate::clock::Clock

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The only signing algorithm issued or accepted.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// The `aud` every access token carries.
pub const AUDIENCE: &str = "faultline-api";
/// The header `typ` of an access token (RFC 9068).
pub const HEADER_TYP: &str = "at+jwt";
/// The claim `typ` of an access token.
pub const CLAIM_TYP: &str = "access";

/// What an access token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer: the server's public URL.
    pub iss: String,
    /// Audience: [`AUDIENCE`].
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// The session (refresh-token family) the token was issued from.
    pub sid: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Token type: [`CLAIM_TYP`].
    pub typ: String,
    /// Whether the session passed a second factor.
    pub mfa: bool,
}

/// Why a presented access token is refused. The caller answers 401 either way; the variant is
/// only logged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Bad signature, algorithm, audience, issuer, type or shape.
    #[error("invalid access token: {0}")]
    Invalid(String),
    /// Past its `exp`.
    #[error("access token expired")]
    Expired,
}

/// Signing and verification keys plus the claims every token must carry.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
}

impl JwtKeys {
    /// Keys for `issuer`, from 32 bytes of key material.
    pub fn new(key: &[u8; 32], issuer: impl Into<String>) -> Self {
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            issuer: issuer.into(),
        }
    }

    /// Issues an access token valid from `now_ms` for `ttl_secs`.
    pub fn issue(
        &self,
        user_id: &str,
        session_id: &str,
        mfa: bool,
        now_ms: i64,
        ttl_secs: i64,
    ) -> Result<String, JwtError> {
        let iat = now_ms / 1000;
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat,
            exp: iat + ttl_secs,
            typ: CLAIM_TYP.to_owned(),
            mfa,
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(HEADER_TYP.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| JwtError::Invalid(e.to_string()))
    }

    /// Verifies `token` and returns its claims if it is a current access token of ours.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<AccessClaims, JwtError> {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is judged below against the injected clock, with no leeway.
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?;
        if data.header.typ.as_deref() != Some(HEADER_TYP) {
            return Err(JwtError::Invalid("wrong header typ".into()));
        }
        if data.claims.typ != CLAIM_TYP {
            return Err(JwtError::Invalid("wrong claim typ".into()));
        }
        if data.claims.exp * 1000 <= now_ms {
            return Err(JwtError::Expired);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn keys() -> JwtKeys {
        JwtKeys::new(&[7; 32], "https://faultline.test")
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn claims() -> serde_json::Value {
        serde_json::json!({
            "iss": "https://faultline.test", "aud": AUDIENCE, "sub": "u1", "sid": "s1",
            "iat": NOW / 1000, "exp": NOW / 1000 + 300, "typ": "access", "mfa": false
        })
    }

    fn forged(header: serde_json::Value, claims: serde_json::Value, key: &[u8]) -> String {
        let mut h = Header::new(ALGORITHM);
        h.typ = header["typ"].as_str().map(str::to_owned);
        jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(key)).expect("encode")
    }

    #[test]
    fn a_fresh_token_verifies() {
        let token = keys().issue("u1", "s1", true, NOW, 300).expect("issue");
        let claims = keys().verify(&token, NOW + 299_000).expect("valid");
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str(), claims.mfa),
            ("u1", "s1", true)
        );
    }

    #[test]
    fn expiry_is_exact() {
        let token = keys().issue("u1", "s1", false, NOW, 300).expect("issue");
        assert_eq!(keys().verify(&token, NOW + 300_000), Err(JwtError::Expired));
    }

    #[test]
    fn alg_none_is_refused() {
        let header = b64(&serde_json::json!({"alg": "none", "typ": HEADER_TYP}));
        let token = format!("{header}.{}.", b64(&claims()));
        assert!(matches!(
            keys().verify(&token, NOW),
            Err(JwtError::Invalid(_))
        ));
    }

    #[test]
    fn another_algorithm_is_refused() {
        let mut h = Header::new(Algorithm::HS512);
        h.typ = Some(HEADER_TYP.into());
        let token =
            jsonwebtoken::encode(&h, &claims(), &EncodingKey::from_secret(&[7; 32])).expect("enc");
        assert!(matches!(
            keys().verify(&token, NOW),
            Err(JwtError::Invalid(_))
        ));
    }

    #[test]
    fn wrong_key_aud_iss_or_typ_are_refused() {
        let ok = serde_json::json!({"typ": HEADER_TYP});
        assert!(
            keys()
                .verify(&forged(ok.clone(), claims(), &[7; 32]), NOW)
                .is_ok()
        );
        let cases = [
            forged(ok.clone(), claims(), &[8; 32]),
            forged(ok.clone(), with(claims(), "aud", "other"), &[7; 32]),
            forged(
                ok.clone(),
                with(claims(), "iss", "https://evil.test"),
                &[7; 32],
            ),
            forged(ok.clone(), with(claims(), "typ", "refresh"), &[7; 32]),
            forged(serde_json::json!({"typ": "JWT"}), claims(), &[7; 32]),
        ];
        for token in cases {
            assert!(matches!(
                keys().verify(&token, NOW),
                Err(JwtError::Invalid(_))
            ));
        }
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "a.b.c", "opaque-refresh-token", "x.y"] {
            assert!(keys().verify(token, NOW).is_err());
        }
    }

    fn with(mut v: serde_json::Value, key: &str, value: &str) -> serde_json::Value {
        v[key] = value.into();
        v
    }
}
