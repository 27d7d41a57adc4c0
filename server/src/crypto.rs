//! Secrets kept at rest (TOTP seeds, later model-provider keys): AES-256-GCM under a key derived
//! from the server secret for one purpose.
//!
//! A sealed value is `v1.` followed by base64url(nonce ‖ ciphertext ‖ tag), with a fresh random
//! 96-bit nonce each time. The associated data names what the value belongs to (a user id, a
//! provider id), so a sealed value copied onto another row does not open there: tampering and
//! swapping are both detected.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::auth::secret::{derive_key, random_bytes};

/// The prefix of sealed values of this format.
const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 12;

/// A sealed value did not open: wrong key, edited, or sealed for another row.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "a sealed secret did not open: it was altered, copied from elsewhere, or sealed under another key"
)]
pub struct Tampered;

/// Seals and opens values for one purpose.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    purpose: &'static str,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer whose key is derived from `secret` for `purpose`.
    pub fn new(secret: &[u8], purpose: &'static str) -> Self {
        let key = derive_key(secret, &format!("sealed:{purpose}"));
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
            purpose,
        }
    }

    fn aad(&self, owner: &str) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.purpose.len() + owner.len() + 1);
        aad.extend_from_slice(self.purpose.as_bytes());
        aad.push(0);
        aad.extend_from_slice(owner.as_bytes());
        aad
    }

    /// Seals `plaintext`, bound to `owner` (the id of the row it is stored on).
    pub fn seal(&self, plaintext: &str, owner: &str) -> String {
        let nonce_bytes = random_bytes::<NONCE_BYTES>();
        let aad = self.aad(owner);
        let sealed = self
            .cipher
            .encrypt(
                &Nonce::from(nonce_bytes),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            // Only inputs beyond 64 GiB can fail.
            .expect("AES-GCM seals any secret of sane size");
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value [`Sealer::seal`] made for `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, Tampered> {
        let body = sealed.strip_prefix(VERSION).ok_or(Tampered)?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| Tampered)?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(Tampered);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Tampered)?;
        let aad = self.aad(owner);
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| Tampered)?;
        String::from_utf8(plain).map_err(|_| Tampered)
    }

    /// Whether `value` is sealed (as opposed to a value stored before sealing existed).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let s = Sealer::new(b"server secret of enough length!!", "totp");
        let a = s.seal("JBSWY3DPEHPK3PXP", "user-1");
        let b = s.seal("JBSWY3DPEHPK3PXP", "user-1");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(Sealer::is_sealed(&a) && !a.contains("JBSWY3DP"));
        assert_eq!(s.open(&a, "user-1").as_deref(), Ok("JBSWY3DPEHPK3PXP"));
    }

    #[test]
    fn tampering_swapping_and_other_keys_are_detected() {
        let s = Sealer::new(b"server secret of enough length!!", "totp");
        let sealed = s.seal("secret", "user-1");
        assert_eq!(
            s.open(&sealed, "user-2"),
            Err(Tampered),
            "moved to another row"
        );
        let other = Sealer::new(b"another server secret, also long", "totp");
        assert_eq!(other.open(&sealed, "user-1"), Err(Tampered), "another key");
        let purpose = Sealer::new(b"server secret of enough length!!", "provider");
        assert_eq!(
            purpose.open(&sealed, "user-1"),
            Err(Tampered),
            "another purpose"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed[3..]).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let flipped = format!("v1.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_eq!(s.open(&flipped, "user-1"), Err(Tampered), "a flipped bit");
        assert_eq!(s.open("plain", "user-1"), Err(Tampered));
        assert_eq!(s.open("v1.AAAA", "user-1"), Err(Tampered));
    }
}
