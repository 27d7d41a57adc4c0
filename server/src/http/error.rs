//! The one error type of the HTTP API and its JSON envelope:
//! `{"error": {"code": "...", "message": "...", "request_id": "..."}}`.
//!
//! Server errors never carry internal text: the cause is logged once, inside the request span,
//! and the body carries the request id that finds that log line.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id;

/// An error answered by an `/api/v1` handler.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The resource does not exist, or belongs to another organisation.
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// A dependency the request needs (the database) is not available.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The body of every API error.
#[derive(Debug, Serialize)]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

/// Code, message and request id of an API error.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// Stable, machine-readable code such as `not_found`.
    pub code: &'static str,
    /// Human-readable message, safe to show.
    pub message: String,
    /// The request's `x-request-id`, for support and log search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

/// Builds an error response with the envelope; shared by handlers, the fallback and the panic
/// guard.
pub fn envelope(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    let body = ErrorEnvelope {
        error: ErrorBody {
            code,
            message: message.into(),
            request_id: request_id::current(),
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(cause) | Self::Unavailable(cause) => {
                tracing::error!(error = format!("{cause:#}"), code, "request failed");
                let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The service is temporarily unavailable; try again shortly."
                } else {
                    "Something went wrong on our side. Quote the request id when reporting it."
                };
                envelope(status, code, message)
            }
            Self::NotFound => envelope(status, code, "No such resource."),
            Self::BadRequest(message) => envelope(status, code, message.clone()),
        }
    }
}
