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
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}
