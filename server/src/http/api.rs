//! `/api/v1`: the JSON API. Handlers are thin: they extract the caller or tenant context,
//! check the permission first, and call the same operations the pages' server functions use.

pub mod ai;
pub mod analyses;
pub mod audit;
pub mod auth;
pub mod comments;
pub mod compare;
pub mod extract;
pub mod invitations;
pub mod me;
pub mod orgs;
pub mod patterns;
pub mod projects;
pub mod reports;
pub mod roles;
pub mod sharing;
pub mod teams;
pub mod testgen;
pub mod tokens;
pub mod uploads;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error;
use crate::state::AppState;

/// Largest JSON body the API accepts.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Every `/api/v1` route, with `/openapi.json` describing them all.
pub fn router() -> Router<AppState> {
    let (json, mut doc) = json_routes().split_for_parts();
    let (streams, streams_doc) = stream_routes().split_for_parts();
    doc.merge(streams_doc);
    name_operations(&mut doc);
    let doc = std::sync::Arc::new(doc);
    json.layer(RequestBodyLimitLayer::new(super::MAX_BODY_BYTES))
        .merge(streams)
        .route(
            "/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(map_response(no_store))
}

/// The OpenAPI document for `/api/v1`, generated from the handlers' annotations.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = json_routes().merge(stream_routes()).into_openapi();
    name_operations(&mut doc);
    doc
}

/// Gives every operation an id made of its method and path (`get_analyses_id_patterns`):
/// handlers in different modules share names such as `list`, and clients generated from the
/// document need the ids to be unique.
fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let words: Vec<&str> = path
            .split(['/', '{', '}', '.', '-'])
            .filter(|w| !w.is_empty())
            .collect();
        let stem = words.join("_");
        for (method, operation) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ] {
            if let Some(operation) = operation {
                operation.operation_id = Some(format!("{method}_{stem}"));
            }
        }
    }
}

/// Routes that stream their bodies: no size limit but their own.
fn stream_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(uploads::create, uploads::list))
        .layer(DefaultBodyLimit::disable())
}

/// The routes with small bodies, each registered together with its OpenAPI description, so
/// the document cannot drift from the router.
fn json_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_all))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::verify_email))
        .routes(routes!(auth::resend_verification))
        .routes(routes!(auth::request_reset))
        .routes(routes!(auth::confirm_reset))
        .routes(routes!(me::show))
        .routes(routes!(me::preferences))
        .routes(routes!(me::change_password))
        .routes(routes!(me::sessions))
        .routes(routes!(me::revoke_session))
        .routes(routes!(me::start_totp))
        .routes(routes!(me::confirm_totp))
        .routes(routes!(me::disable_totp))
        .routes(routes!(me::regenerate_codes))
        .routes(routes!(orgs::list, orgs::create))
        .routes(routes!(orgs::show, orgs::update, orgs::remove))
        .routes(routes!(orgs::transfer))
        .routes(routes!(orgs::members))
        .routes(routes!(orgs::change_role, orgs::remove_member))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::rename, teams::remove))
        .routes(routes!(teams::members))
        .routes(routes!(teams::add_member, teams::remove_member))
        .routes(routes!(invitations::list, invitations::create))
        .routes(routes!(invitations::accept))
        .routes(routes!(invitations::revoke))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::update, roles::remove))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(uploads::limits))
        .routes(routes!(analyses::list, analyses::create))
        .routes(routes!(analyses::show, analyses::remove))
        .routes(routes!(analyses::cancel))
        .routes(routes!(analyses::file_under))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::update, projects::remove))
        .routes(routes!(analyses::events))
        .routes(routes!(patterns::overview))
        .routes(routes!(patterns::list))
        .routes(routes!(patterns::show))
        .routes(routes!(patterns::context))
        .routes(routes!(compare::compare))
        .routes(routes!(reports::export))
        .routes(routes!(testgen::suite, testgen::generate))
        .routes(routes!(testgen::download))
        .routes(routes!(testgen::run))
        .routes(routes!(testgen::manual_cases))
        .routes(routes!(testgen::my_settings, testgen::save_my_settings))
        .routes(routes!(testgen::team_settings, testgen::save_team_settings))
        .routes(routes!(testgen::list_templates))
        .routes(routes!(testgen::create_template))
        .routes(routes!(testgen::update_template, testgen::delete_template))
        .routes(routes!(testgen::preview_template))
        .routes(routes!(sharing::show, sharing::update))
        .routes(routes!(comments::list, comments::create))
        .routes(routes!(comments::edit, comments::remove))
        .routes(routes!(comments::events))
        .routes(routes!(comments::mentions))
        .routes(routes!(comments::read_mentions))
        .routes(routes!(ai::list_providers, ai::create_provider))
        .routes(routes!(ai::update_provider, ai::delete_provider))
        .routes(routes!(ai::settings, ai::save_settings))
        .routes(routes!(ai::usage))
        .routes(routes!(ai::explain))
        .routes(routes!(ai::recommend))
        .routes(routes!(ai::summary))
        .routes(routes!(ai::tests))
        .routes(routes!(ai::compare))
        .routes(routes!(ai::stream))
        .routes(routes!(ai::team_prompts_of))
        .routes(routes!(ai::prompt_history, ai::save_prompt))
        .routes(routes!(ai::preview))
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Faultline API",
        description = "Accounts, organisations, roles, teams, invitations, API tokens, the audit log, uploads, analyses (searched and grouped into projects) and their discussions. \
            Authenticate with the session cookie set at sign-in, or send `Authorization: Bearer` with an \
            access token or an API token (`flt_…`). Errors share one envelope: \
            `{\"error\": {\"code\", \"message\", \"request_id\", \"fields\"}}`."
    ),
    servers((url = "/api/v1")),
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("cookie" = [])),
    tags(
        (name = "auth", description = "Sign-up, sign-in, sessions and password reset"),
        (name = "account", description = "The signed-in account: preferences, password, sessions, two-factor"),
        (name = "organisations", description = "Organisations (tenants) and ownership"),
        (name = "members", description = "Who belongs to an organisation, with which role"),
        (name = "teams", description = "Teams inside an organisation"),
        (name = "invitations", description = "Inviting people by email"),
        (name = "roles", description = "Built-in and custom roles"),
        (name = "tokens", description = "API tokens for CI and the command line"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "uploads", description = "Log files, streamed into storage"),
        (name = "analyses", description = "Analyses of uploads: start, follow live, read, cancel, delete"),
        (name = "projects", description = "Projects that group analyses by service"),
        (name = "comments", description = "Threaded comments on patterns, followed live, and the mentions they send"),
        (name = "tests", description = "Regression tests generated from an analysis, and the settings they are generated with"),
        (name = "ai", description = "Optional AI: model providers (keys sealed, never returned), routing, the monthly ceiling, and explanations with fallback to the built-in engine"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from sign-in, or an API token (flt_…)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "fl_access",
                "The access cookie set at sign-in (__Host-fl_access under TLS)",
            ))),
        );
    }
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
