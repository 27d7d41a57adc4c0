//! The server side's half of the contract: what `#[server]` functions need from the process
//! that hosts them. The `server` crate implements [`Backend`] and provides it as context, so
//! the UI crate never depends on the database or the router.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::error::ApiError;
use crate::api::system::SystemStatus;

/// A boxed future, as trait objects need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A call into the JSON API on behalf of the current request.
pub struct ApiCall {
    /// The browser's request (cookies, address, user agent).
    pub parts: http::request::Parts,
    /// HTTP method.
    pub method: http::Method,
    /// Path under `/api/v1`, with its query.
    pub path: String,
    /// JSON body.
    pub body: Option<serde_json::Value>,
}

/// What the API answered.
pub struct ApiReply {
    /// Status.
    pub status: u16,
    /// Body (JSON, `null` when empty, a string for CSV).
    pub body: serde_json::Value,
    /// `Set-Cookie` values to pass on to the browser.
    pub set_cookies: Vec<http::HeaderValue>,
}

/// Services the server offers to server functions.
pub trait Backend: Send + Sync + 'static {
    /// Version, database and schema figures for the status page.
    fn system_status(&self) -> BoxFuture<'_, Result<SystemStatus, ServerFnError>>;

    /// Runs a JSON API call in-process, with the same authentication, tenancy and permission
    /// checks as over HTTP.
    fn api(&self, call: ApiCall) -> BoxFuture<'_, ApiReply>;
}

/// The backend provided by the server for this request.
pub fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<Arc<dyn Backend>>()
        .ok_or_else(|| ServerFnError::new("server backend missing from context"))
}

/// Calls the JSON API as the signed-in browser and decodes the answer, passing any new
/// cookies on to the browser. An error answer sets the page's status.
pub async fn call<T: DeserializeOwned>(
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T, ApiError> {
    decode(exchange(method, path, body).await?)
}

/// Like [`call`], for what only some roles may see: `None` when the caller's role may not
/// (403), and the page keeps its status, since not being shown a card is no error.
pub async fn call_if_permitted<T: DeserializeOwned>(
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<Option<T>, ApiError> {
    let reply = exchange(method, path, body).await?;
    if reply.status == 403 {
        return Ok(None);
    }
    decode(reply).map(Some)
}

fn internal(message: &str) -> ApiError {
    ApiError::new(500, "internal", message.to_owned())
}

/// Runs the API call and passes its cookies on to the browser.
async fn exchange(
    method: http::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<ApiReply, ApiError> {
    let backend =
        use_context::<Arc<dyn Backend>>().ok_or_else(|| internal("server backend missing"))?;
    let parts = use_context::<http::request::Parts>().ok_or_else(|| internal("request missing"))?;
    let reply = backend
        .api(ApiCall {
            parts,
            method,
            path: path.to_owned(),
            body,
        })
        .await;
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        for cookie in &reply.set_cookies {
            response.append_header(http::header::SET_COOKIE, cookie.clone());
        }
    }
    Ok(reply)
}

/// The answer's value, or its error, which also becomes the page's status.
fn decode<T: DeserializeOwned>(reply: ApiReply) -> Result<T, ApiError> {
    if reply.status >= 400 {
        // The server function answers with the API's status, not a blanket 500.
        if let (Some(response), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(reply.status),
        ) {
            response.set_status(status);
        }
        let error = &reply.body["error"];
        let fields = serde_json::from_value(error["fields"].clone()).unwrap_or_default();
        return Err(ApiError {
            status: reply.status,
            code: error["code"].as_str().unwrap_or("error").to_owned(),
            message: error["message"]
                .as_str()
                .unwrap_or("The request failed.")
                .to_owned(),
            fields,
        });
    }
    serde_json::from_value(reply.body).map_err(|e| internal(&format!("unexpected answer: {e}")))
}

/// The Content-Security-Policy for a page whose inline scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}
