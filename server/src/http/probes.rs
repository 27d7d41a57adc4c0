//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::state::AppState;

/// `GET /healthz`: the process is up and answering. Never touches the database, so a slow
/// database does not get a healthy process restarted.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The body of `/readyz`.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Whether a query round-tripped.
    pub database_reachable: bool,
    /// Highest applied migration.
    pub schema_version: Option<i64>,
    /// Highest migration this binary ships.
    pub schema_expected: i64,
    /// Why the instance is not ready, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /readyz`: 200 when the database answers and every migration is applied, 503 otherwise.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.db.backend();
    let (reachable, status, reason) = match state.db.schema_status().await {
        Ok(schema) if schema.is_current() => (true, schema, None),
        Ok(schema) => {
            let why = format!(
                "schema at version {:?}, this binary needs {}; run `faultline migrate`",
                schema.applied, schema.expected
            );
            (true, schema, Some(why))
        }
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let unknown = crate::db::SchemaStatus {
                applied: None,
                expected: 0,
            };
            (false, unknown, Some("database unreachable".to_owned()))
        }
    };
    let ready = reason.is_none();
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        database,
        database_reachable: reachable,
        schema_version: status.applied,
        schema_expected: status.expected,
        reason,
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}
