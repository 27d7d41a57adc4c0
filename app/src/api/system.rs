//! System status: version, database and schema, for the status page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the status page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// Faultline's version.
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// Highest applied migration.
    pub schema_version: Option<i64>,
    /// Highest migration the running binary ships.
    pub schema_expected: i64,
    /// Random id of this installation.
    pub instance_id: String,
    /// When this installation's database was created (ms since the epoch).
    pub instance_created_ms: i64,
    /// Seconds since the process started.
    pub uptime_seconds: u64,
}

/// Reads the system status from the server.
#[server(prefix = "/rpc", endpoint = "system_status")]
pub async fn get_system_status() -> Result<SystemStatus, ServerFnError> {
    crate::ssr::backend()?.system_status().await
}
