//! Cross-site request forgery defence for every state-changing request: a browser marks
//! cross-site requests with `Sec-Fetch-Site` and `Origin`, and those are refused. Clients that
//! send neither (curl, CI) are not browsers and cannot be forged into sending our cookies.
//! Safe methods never change state, so they pass.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::envelope;
use crate::state::AppState;

/// Middleware: refuses cross-site state changes with 403 `csrf`.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_safe(req.method()) || same_origin(&req, &state.config.public_url) {
        return next.run(req).await;
    }
    tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
    envelope(
        StatusCode::FORBIDDEN,
        "csrf",
        "Cross-site requests cannot change anything here. Use Faultline's own pages or an API token.",
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn same_origin(req: &Request, public_url: &str) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin.eq_ignore_ascii_case(public_url) {
        return true;
    }
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false;
    };
    // Served over TLS, a page over plain HTTP on the same host is not this origin.
    if public_url.starts_with("https://") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    host.is_some_and(|h| authority.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request {
        let mut req = Request::builder().method(Method::POST).uri("/api/v1/orgs");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(axum::body::Body::empty()).expect("request")
    }

    #[test]
    fn the_origin_must_match_scheme_and_host() {
        let tls = "https://faultline.example";
        let host = ("host", "faultline.example");
        assert!(same_origin(
            &post(&[("origin", "https://faultline.example")]),
            tls
        ));
        assert!(same_origin(
            &post(&[("origin", "https://FAULTLINE.example"), host]),
            "https://other"
        ));
        assert!(!same_origin(
            &post(&[("origin", "http://faultline.example"), host]),
            tls
        ));
        assert!(same_origin(
            &post(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000")
            ]),
            "http://127.0.0.1:3000/x"
        ));
        assert!(!same_origin(
            &post(&[("origin", "https://evil.example"), host]),
            tls
        ));
        assert!(!same_origin(&post(&[("origin", "null"), host]), tls));
        assert!(same_origin(&post(&[]), tls), "not a browser");
        assert!(!same_origin(
            &post(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://faultline.example")
            ]),
            tls
        ));
    }
}
