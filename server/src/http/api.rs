//! `/api/v1`: the JSON API. Handlers are thin: they extract the caller or tenant context,
//! check the permission first, and call the same operations the pages' server functions use.

pub mod audit;
pub mod auth;
pub mod extract;
pub mod invitations;
pub mod me;
pub mod orgs;
pub mod roles;
pub mod teams;
pub mod tokens;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{delete, get, patch, post, put};

use super::error;
use crate::state::AppState;

/// Largest JSON body the API accepts.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(auth::signup))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/verify-email", post(auth::verify_email))
        .route("/auth/resend-verification", post(auth::resend_verification))
        .route("/auth/password-reset", post(auth::request_reset))
        .route("/auth/password-reset/confirm", post(auth::confirm_reset))
        .route("/me", get(me::show))
        .route("/me/preferences", patch(me::preferences))
        .route("/me/password", post(me::change_password))
        .route("/me/sessions", get(me::sessions))
        .route("/me/sessions/{id}", delete(me::revoke_session))
        .route("/me/mfa/totp", post(me::start_totp))
        .route("/me/mfa/totp/confirm", post(me::confirm_totp))
        .route("/me/mfa/totp/disable", post(me::disable_totp))
        .route("/me/mfa/recovery-codes", post(me::regenerate_codes))
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route(
            "/orgs/{org}",
            get(orgs::show).patch(orgs::update).delete(orgs::remove),
        )
        .route("/orgs/{org}/transfer-ownership", post(orgs::transfer))
        .route("/orgs/{org}/members", get(orgs::members))
        .route(
            "/orgs/{org}/members/{user}",
            patch(orgs::change_role).delete(orgs::remove_member),
        )
        .route("/orgs/{org}/teams", get(teams::list).post(teams::create))
        .route(
            "/orgs/{org}/teams/{team}",
            patch(teams::rename).delete(teams::remove),
        )
        .route("/orgs/{org}/teams/{team}/members", get(teams::members))
        .route(
            "/orgs/{org}/teams/{team}/members/{user}",
            put(teams::add_member).delete(teams::remove_member),
        )
        .route(
            "/orgs/{org}/invitations",
            get(invitations::list).post(invitations::create),
        )
        .route("/orgs/{org}/invitations/accept", post(invitations::accept))
        .route("/orgs/{org}/invitations/{id}", delete(invitations::revoke))
        .route("/orgs/{org}/roles", get(roles::list).post(roles::create))
        .route(
            "/orgs/{org}/roles/{role}",
            patch(roles::update).delete(roles::remove),
        )
        .route("/orgs/{org}/tokens", get(tokens::list).post(tokens::create))
        .route("/orgs/{org}/tokens/{id}", delete(tokens::revoke))
        .route("/orgs/{org}/audit", get(audit::list))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(map_response(no_store))
}

/// API answers carry accounts, tokens and tenant data: no cache may keep them.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn not_found() -> Response {
    error::envelope(StatusCode::NOT_FOUND, "not_found", "No such API endpoint.")
}
