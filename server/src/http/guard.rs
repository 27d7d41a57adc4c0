//! Middleware that keeps every response safe: a panic in a handler becomes a 500 with a request
//! id and no internal text, and every response carries the security headers.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use futures::FutureExt;

use super::{error, request_id};

/// Turns a panic inside the request into a 500 answer. The panic message is logged (inside the
/// request span, so with the request id) and never sent to the client.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            tracing::error!(panic = %message, "handler panicked");
            internal_error_response(is_api)
        }
    }
}

fn internal_error_response(is_api: bool) -> Response {
    let message = "Something went wrong on our side. Quote the request id when reporting it.";
    if is_api {
        return error::envelope(StatusCode::INTERNAL_SERVER_ERROR, "internal", message);
    }
    let id = request_id::current().unwrap_or_default();
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · Faultline</title>\
         <link rel=\"stylesheet\" href=\"/fallback.css\"></head><body><main><h1>Something went wrong</h1>\
         <p>{message}</p><p>Request id: <code>{id}</code></p><p><a href=\"/\">Back to Faultline</a></p>\
         </main></body></html>"
    );
    (StatusCode::INTERNAL_SERVER_ERROR, Html(page)).into_response()
}

/// The headers every response carries, computed once from the configuration.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    hsts: bool,
}

/// The policy for responses that are not pages (JSON, files): nothing may run or be framed.
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

impl SecurityHeaders {
    /// `hsts` is true when the public URL is `https://`.
    pub fn new(hsts: bool) -> Arc<Self> {
        Arc::new(Self { hsts })
    }
}

/// Adds the security headers. Pages set their own nonce-bearing CSP, which is kept.
pub async fn security_headers(
    State(policy): State<Arc<SecurityHeaders>>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if policy.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
