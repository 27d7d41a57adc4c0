//! Keeps browser sessions signed in across access-token expiry.
//!
//! When a cookie-authenticated request arrives with a refresh cookie but no current access
//! token, this layer spends the refresh token before the request runs, hands the handler (page,
//! server function or API call) the new tokens in its `Cookie` header, and sets them on the
//! response — before any page streams, so the browser always learns the new cookies.
//!
//! A page load can fire several requests at once with the same expired cookies. They must not
//! count as refresh-token reuse, so one refresh per token runs at a time and its result is
//! reused for [`GRACE_MS`] (a lock per token; other sessions never wait). The explicit `POST /api/v1/auth/refresh` has no such grace.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::api::extract::origin_from;
use crate::auth::account::{self, Issued};
use crate::auth::cookies;
use crate::auth::secret::token_digest;
use crate::state::AppState;

/// How long a refresh result is reused for requests carrying the same spent token.
pub const GRACE_MS: i64 = 30_000;

/// One token's refresh: taken while it runs, then holding its result for [`GRACE_MS`].
type Slot = Arc<tokio::sync::Mutex<Option<(i64, Issued)>>>;

/// Recent refreshes, by digest of the spent token. Each token has a lock of its own, so
/// refreshes of different sessions never wait for each other.
#[derive(Default)]
pub struct RefreshCache {
    slots: std::sync::Mutex<HashMap<String, (i64, Slot)>>,
}

impl RefreshCache {
    /// The slot for `key`, dropping slots past their grace that nobody holds.
    fn slot(&self, key: String, now: i64) -> Slot {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slots.retain(|_, (at, slot)| now - *at < GRACE_MS || Arc::strong_count(slot) > 1);
        slots
            .entry(key)
            .or_insert_with(|| (now, Arc::default()))
            .1
            .clone()
    }
}

fn skipped(path: &str) -> bool {
    [
        "/pkg/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/favicon.svg",
        "/robots.txt",
        "/fallback.css",
        "/api/v1/auth/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Middleware: refreshes an expired cookie session before the request runs.
pub async fn layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let names = cookies::names(state.auth.secure_cookies);
    let headers = req.headers();
    if skipped(req.uri().path()) || headers.contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let Some(refresh) = cookies::read(headers, names.refresh).map(str::to_owned) else {
        return next.run(req).await;
    };
    let now = state.auth.now();
    let access_ok =
        cookies::read(headers, names.access).is_some_and(|a| state.auth.jwt.verify(a, now).is_ok());
    if access_ok {
        return next.run(req).await;
    }
    let origin = origin_from(req.headers(), req.extensions(), &state.config);
    let outcome = refresh_once(&state, &origin, &refresh).await;
    let cookie_header = rewrite_cookies(req.headers(), names, outcome.as_ref());
    req.headers_mut().remove(header::COOKIE);
    if let Some(value) = cookie_header.and_then(|c| HeaderValue::from_str(&c).ok()) {
        req.headers_mut().insert(header::COOKIE, value);
    }
    let mut response = next.run(req).await;
    let policy = state.auth.policy;
    match outcome {
        Some(issued) => cookies::set_session(
            response.headers_mut(),
            state.auth.secure_cookies,
            &issued.access_token,
            policy.access_ttl_secs,
            &issued.refresh_token,
            (issued.session.expires_at_ms - now) / 1000,
        ),
        None => cookies::clear_session(response.headers_mut(), state.auth.secure_cookies),
    }
    response
}

async fn refresh_once(
    state: &AppState,
    origin: &crate::auth::sessions::Origin,
    refresh: &str,
) -> Option<Issued> {
    let now = state.auth.now();
    let slot = state.refresh_cache.slot(token_digest(refresh), now);
    let mut done = slot.lock().await;
    if let Some((at, issued)) = done.as_ref()
        && now - at < GRACE_MS
    {
        return Some(issued.clone());
    }
    match account::refresh(state, origin, refresh).await {
        Ok(issued) => {
            *done = Some((now, issued.clone()));
            Some(issued)
        }
        Err(error) => {
            tracing::debug!(error = %error, "cookie session could not be refreshed");
            None
        }
    }
}

/// The request's `Cookie` header with the session cookies replaced by `issued` (or dropped).
fn rewrite_cookies(
    headers: &axum::http::HeaderMap,
    names: cookies::Names,
    issued: Option<&Issued>,
) -> Option<String> {
    let mut pairs: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .filter(|p| {
            !p.starts_with(&format!("{}=", names.access))
                && !p.starts_with(&format!("{}=", names.refresh))
        })
        .map(str::to_owned)
        .collect();
    if let Some(issued) = issued {
        pairs.push(format!("{}={}", names.access, issued.access_token));
        pairs.push(format!("{}={}", names.refresh, issued.refresh_token));
    }
    (!pairs.is_empty()).then(|| pairs.join("; "))
}
