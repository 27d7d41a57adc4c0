//! The state every handler shares: cheap to clone, built once at start-up.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::http::guard::SecurityHeaders;
use crate::http::metrics::Metrics;

/// Shared handles for handlers, middleware and server functions.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Db,
    /// The configuration the process started with.
    pub config: Arc<Config>,
    /// Leptos' rendering options (site root, output name).
    pub leptos: LeptosOptions,
    /// Names of the built, content-hashed assets.
    pub assets: Arc<app::AssetManifest>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// Security header policy.
    pub security: Arc<SecurityHeaders>,
    /// When the process started, for uptime.
    pub started: Instant,
    /// Keys, policies, rate limits and mail for authentication.
    pub auth: Arc<Auth>,
    /// The model router: provider keys, circuit breakers and the HTTP client.
    pub ai: Arc<crate::ai::Ai>,
    /// Storage, progress hub and worker identity for uploads and analyses.
    pub ingest: Arc<crate::ingest::Ingest>,
    /// The time, injectable for tests.
    pub clock: Arc<dyn Clock>,
    /// Recent cookie-session refreshes (see `http::session_refresh`).
    pub refresh_cache: Arc<crate::http::session_refresh::RefreshCache>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for Arc<SecurityHeaders> {
    fn from_ref(state: &AppState) -> Self {
        state.security.clone()
    }
}
