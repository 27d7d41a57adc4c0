//! The axum router: probes, metrics, the JSON API, static assets and the Leptos pages, wrapped
//! in the middleware every response passes through.

pub mod api;
pub mod csrf;
pub mod error;
pub mod guard;
pub mod metrics;
pub mod probes;
pub mod request_id;
pub mod session_refresh;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::response::Response;
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::state::AppState;

/// Largest request body accepted outside dedicated upload routes.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Builds the complete application router for `state`.
pub fn build_router(state: AppState) -> Router {
    with_middleware(routes(&state), state)
}

/// Every route: probes, metrics, the API, static files and the Leptos pages.
pub fn routes(state: &AppState) -> Router<AppState> {
    let route_list = page_routes();
    let assets = state.assets.clone();
    let backend: Arc<dyn app::ssr::Backend> =
        Arc::new(crate::backend::ServerBackend::new(state.clone()));
    let pages = Router::new()
        .leptos_routes_with_context(
            state,
            route_list,
            move || provide_context(backend.clone()),
            move || app::shell(assets.clone()),
        )
        .fallback(not_found_page);

    Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(metrics::handler))
        .nest("/api/v1", api::router())
        .nest_service("/pkg", static_assets(state))
        .route_service("/favicon.svg", public_file(state, "favicon.svg"))
        .route_service("/robots.txt", public_file(state, "robots.txt"))
        .route_service("/fallback.css", public_file(state, "fallback.css"))
        .merge(pages.layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES)))
}

/// The page routes, listed once per process. Listing renders the app with resource loading
/// switched off by a flag that is global to the process (leptos_server's
/// `SuppressResourceLoad`), so a listing made while another router in the process renders a
/// page leaves that page's resources unloaded and its response hanging for good. A process
/// with several routers (the integration tests) hung that way about once in ten runs.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// Wraps `router` in the middleware every response passes through, outermost last: request id
/// and log span, security headers, metrics, the panic guard and compression. Body limits are
/// per route: small for pages and the JSON API, the organisation's own for uploads.
pub fn with_middleware(router: Router<AppState>, state: AppState) -> Router {
    router
        .layer(CompressionLayer::new())
        .layer(from_fn_with_state(state.clone(), session_refresh::layer))
        .layer(from_fn_with_state(state.clone(), csrf::layer))
        .layer(from_fn(guard::catch_panic))
        .layer(from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(from_fn_with_state(
            state.security.clone(),
            guard::security_headers,
        ))
        .layer(from_fn(request_id::layer))
        .with_state(state)
}

/// Renders the 404 page for addresses outside the route table.
async fn not_found_page(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let assets = state.assets.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(state.clone()),
        move || app::shell(assets.clone()),
    );
    let mut response = axum::response::IntoResponse::into_response(handler(req).await);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// `/pkg`: content-hashed build output, cached for a year and served precompressed when the
/// build left a `.gz` beside the file.
fn static_assets(state: &AppState) -> Router {
    let dir = ServeDir::new(state.config.site_root.join("pkg")).precompressed_gzip();
    Router::new()
        .fallback_service(dir)
        .layer(map_response(|res: Response| {
            cache_if_ok(res, "public, max-age=31536000, immutable")
        }))
}

/// A file from `public/` at a fixed address, cached for an hour.
fn public_file(state: &AppState, name: &str) -> Router {
    let file = ServeFile::new(state.config.site_root.join(name));
    Router::new()
        .fallback_service(file)
        .layer(map_response(|res: Response| {
            cache_if_ok(res, "public, max-age=3600")
        }))
}

async fn cache_if_ok(mut response: Response, policy: &'static str) -> Response {
    if response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}
