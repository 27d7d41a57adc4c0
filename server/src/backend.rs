//! The server's implementation of the services that `#[server]` functions in the `app` crate
//! call (see `app::ssr::Backend`).

use leptos::prelude::ServerFnError;

use app::api::system::SystemStatus;
use app::ssr::{Backend, BoxFuture};

use crate::state::AppState;

/// Serves server functions from the shared application state.
pub struct ServerBackend {
    state: AppState,
}

impl ServerBackend {
    /// Wraps the application state.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

/// Logs the cause and returns a message safe to show.
fn internal(context: &'static str, error: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(error = %error, "{context}");
    ServerFnError::new(format!("{context}; the server log has the details"))
}

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
}
