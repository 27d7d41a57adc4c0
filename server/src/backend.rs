//! The server's implementation of the services that `#[server]` functions in the `app` crate
//! call (see `app::ssr::Backend`).

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use leptos::prelude::ServerFnError;
use tower::ServiceExt;

use app::api::system::SystemStatus;
use app::ssr::{ApiCall, ApiReply, Backend, BoxFuture};

use crate::state::AppState;

/// Serves server functions from the shared application state.
pub struct ServerBackend {
    state: AppState,
    api: Router,
}

impl ServerBackend {
    /// Wraps the application state.
    pub fn new(state: AppState) -> Self {
        let api = crate::http::api::router().with_state(state.clone());
        Self { state, api }
    }
}

/// Logs the cause and returns a message safe to show.
fn internal(context: &'static str, error: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %error, "{context}");
    ServerFnError::new(format!("{context}; the server log has the details"))
}

/// Headers of the browser's request that the API needs to know who is calling.
const FORWARDED: [http::HeaderName; 4] = [
    http::header::COOKIE,
    http::header::AUTHORIZATION,
    http::header::USER_AGENT,
    http::HeaderName::from_static("x-forwarded-for"),
];

impl Backend for ServerBackend {
    fn system_status(&self) -> BoxFuture<'_, Result<SystemStatus, ServerFnError>> {
        Box::pin(async move {
            let db = &self.state.db;
            let schema = db
                .schema_status()
                .await
                .map_err(|e| internal("could not read the schema version", e))?;
            let instance = crate::db::instance(db)
                .await
                .map_err(|e| internal("could not read the installation record", e))?;
            Ok(SystemStatus {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                database: db.backend().to_owned(),
                schema_version: schema.applied,
                schema_expected: schema.expected,
                instance_id: instance.id,
                instance_created_ms: instance.created_at_ms,
                uptime_seconds: self.state.started.elapsed().as_secs(),
            })
        })
    }

    fn api(&self, call: ApiCall) -> BoxFuture<'_, ApiReply> {
        Box::pin(async move {
            let mut request = http::Request::builder().method(call.method).uri(&call.path);
            for name in FORWARDED {
                for value in call.parts.headers.get_all(&name) {
                    request = request.header(&name, value);
                }
            }
            if let Some(connect) = call
                .parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            {
                request = request.extension(*connect);
            }
            let body = match call.body {
                Some(json) => {
                    request = request.header(http::header::CONTENT_TYPE, "application/json");
                    Body::from(json.to_string())
                }
                None => Body::empty(),
            };
            let reply = |status: u16, body: serde_json::Value| ApiReply {
                status,
                body,
                set_cookies: Vec::new(),
            };
            let Ok(request) = request.body(body) else {
                return reply(
                    500,
                    serde_json::json!({"error": {"code": "internal", "message": "bad internal request"}}),
                );
            };
            let Ok(response) = self.api.clone().oneshot(request).await;
            let status = response.status().as_u16();
            let set_cookies = response
                .headers()
                .get_all(http::header::SET_COOKIE)
                .iter()
                .cloned()
                .collect();
            let is_json = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
            let bytes = response
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let body = if bytes.is_empty() {
                serde_json::Value::Null
            } else if is_json {
                serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)
            } else {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            };
            ApiReply {
                status,
                body,
                set_cookies,
            }
        })
    }
}
