//! The session cookies: HttpOnly, `SameSite=Lax`, `Path=/`, and under TLS `Secure` with the
//! `__Host-` prefix (which pins them to this host and path).

use axum::http::{HeaderMap, HeaderValue, header};

/// Cookie names for this deployment.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    /// The access token.
    pub access: &'static str,
    /// The refresh token.
    pub refresh: &'static str,
}

/// The names to use; `secure` when served over TLS.
pub fn names(secure: bool) -> Names {
    if secure {
        Names {
            access: "__Host-fl_access",
            refresh: "__Host-fl_refresh",
        }
    } else {
        Names {
            access: "fl_access",
            refresh: "fl_refresh",
        }
    }
}

fn cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Adds `Set-Cookie` headers for a fresh access and refresh token.
pub fn set_session(
    headers: &mut HeaderMap,
    secure: bool,
    access: &str,
    access_ttl_secs: i64,
    refresh: &str,
    refresh_ttl_secs: i64,
) {
    let n = names(secure);
    for value in [
        cookie(n.access, access, access_ttl_secs, secure),
        cookie(n.refresh, refresh, refresh_ttl_secs, secure),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, value);
    }
}

/// Adds `Set-Cookie` headers that delete both session cookies.
pub fn clear_session(headers: &mut HeaderMap, secure: bool) {
    let n = names(secure);
    for value in [
        cookie(n.access, "", 0, secure),
        cookie(n.refresh, "", 0, secure),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, value);
    }
}

/// The value of cookie `name` in the request, if present.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_cookies_are_host_prefixed_and_secure() {
        let mut headers = HeaderMap::new();
        set_session(&mut headers, true, "a", 300, "r", 600);
        let values: Vec<_> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(
            values[0],
            "__Host-fl_access=a; Path=/; HttpOnly; SameSite=Lax; Max-Age=300; Secure"
        );
        assert_eq!(
            values[1],
            "__Host-fl_refresh=r; Path=/; HttpOnly; SameSite=Lax; Max-Age=600; Secure"
        );
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("faultline_theme=dark; fl_access=tok; x=1"),
        );
        assert_eq!(read(&headers, "fl_access"), Some("tok"));
        assert_eq!(read(&headers, "fl_refresh"), None);
    }
}
