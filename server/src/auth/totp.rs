//! Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of
//! clock drift either way) and the QR code that enrols them.
//!
//! The replay guard lives in the database: a code is accepted only if its time step is later
//! than the last step accepted for that user (see `users.totp_last_step`).

use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::secret::{constant_time_eq, random_bytes};

/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Issuer shown in authenticator apps.
pub const ISSUER: &str = "Faultline";

/// A new random 160-bit secret, base32-encoded.
pub fn new_secret() -> String {
    Secret::from(random_bytes::<20>()).to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// The `otpauth://` URL an authenticator app enrols from.
pub fn otpauth_url(secret_b32: &str, account: &str) -> Option<String> {
    totp(secret_b32, account)?.to_url().ok()
}

/// The code for the step containing `unix_secs`.
pub fn code_at(secret_b32: &str, unix_secs: u64) -> Option<String> {
    totp(secret_b32, "").map(|t| t.generate(unix_secs).to_string())
}

/// The time step `code` belongs to, if it matches the current step or one either side.
pub fn matching_step(secret_b32: &str, code: &str, now_ms: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_b32, "")?;
    let now_step = u64::try_from(now_ms / 1000).ok()? / STEP_SECS;
    [now_step.checked_sub(1), Some(now_step), Some(now_step + 1)]
        .into_iter()
        .flatten()
        .find(|step| {
            constant_time_eq(
                totp.generate(step * STEP_SECS).to_string().as_bytes(),
                code.as_bytes(),
            )
        })
        .and_then(|step| i64::try_from(step).ok())
}

/// An SVG QR code for `data`, with a quiet zone and no inline styles (the page CSP forbids
/// them).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", truncated to 6 digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn matches_the_rfc_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).as_deref(), Some("287082"));
        assert_eq!(
            code_at(RFC_SECRET, 1_111_111_109).as_deref(),
            Some("081804")
        );
        assert_eq!(
            code_at(RFC_SECRET, 2_000_000_000).as_deref(),
            Some("279037")
        );
    }

    #[test]
    fn accepts_one_step_of_drift_and_reports_the_step() {
        let now = 1_111_111_109_000;
        let step = 1_111_111_109 / 30;
        let previous = code_at(RFC_SECRET, 1_111_111_109 - 30).expect("code");
        assert_eq!(matching_step(RFC_SECRET, "081804", now), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &previous, now), Some(step - 1));
        let old = code_at(RFC_SECRET, 1_111_111_109 - 90).expect("code");
        assert_eq!(matching_step(RFC_SECRET, &old, now), None);
        assert_eq!(matching_step(RFC_SECRET, "08180", now), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", now), None);
    }

    #[test]
    fn new_secrets_enrol() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let url = otpauth_url(&secret, "a@b.c").expect("url");
        assert!(
            url.starts_with("otpauth://totp/Faultline:a%40b.c?secret="),
            "{url}"
        );
        let svg = qr_svg(&url).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    }
}
