//! The server side's half of the contract: what `#[server]` functions need from the process
//! that hosts them. The `server` crate implements [`Backend`] and provides it as context, so
//! the UI crate never depends on the database or the router.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::prelude::*;

use crate::api::system::SystemStatus;

/// A boxed future, as trait objects need.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Services the server offers to server functions.
pub trait Backend: Send + Sync + 'static {
    /// Version, database and schema figures for the status page.
    fn system_status(&self) -> BoxFuture<'_, Result<SystemStatus, ServerFnError>>;
}

/// The backend provided by the server for this request.
pub fn backend() -> Result<Arc<dyn Backend>, ServerFnError> {
    use_context::<Arc<dyn Backend>>()
        .ok_or_else(|| ServerFnError::new("server backend missing from context"))
}

/// The Content-Security-Policy for a page whose inline scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}
