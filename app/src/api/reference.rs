//! The JSON API's own description, for the reference page.

use leptos::prelude::*;

use super::error::ApiError;

/// The OpenAPI document of `/api/v1`.
#[server(prefix = "/rpc", endpoint = "api_reference")]
pub async fn api_reference() -> Result<serde_json::Value, ApiError> {
    crate::ssr::call(http::Method::GET, "/openapi.json", None).await
}
