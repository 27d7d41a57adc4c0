//! The one error type of the HTTP API and its JSON envelope:
//! `{"error": {"code": "...", "message": "...", "request_id": "...", "fields": [...]}}`.
//!
//! Server errors never carry internal text: the cause is logged once, inside the request span,
//! and the body carries the request id that finds that log line.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id;

/// An error answered by an `/api/v1` handler or a service it calls.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The resource does not exist, or belongs to another organisation.
    #[error("not found")]
    NotFound,
    /// The resource does not exist (or belongs to another organisation), with a message naming
    /// what was looked for.
    #[error("{0}")]
    Missing(String),
    /// The request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// One or more fields are invalid; each message belongs next to its field.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// No valid credentials (or the second factor is missing or wrong): 401.
    #[error("{1}")]
    Unauthorized(&'static str, String),
    /// Authenticated but not allowed: 403.
    #[error("{1}")]
    Forbidden(&'static str, String),
    /// The request conflicts with the current state: 409.
    #[error("{1}")]
    Conflict(&'static str, String),
    /// The body is larger than the route accepts: 413.
    #[error("{0}")]
    TooLarge(String),
    /// Storing it would exceed the organisation's quota: 413 `quota_exceeded`.
    #[error("{0}")]
    OverQuota(String),
    /// The body's type is not accepted: 415.
    #[error("{0}")]
    Unsupported(String),
    /// Too many attempts: 429 with `Retry-After` seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// A dependency the request needs (the database) is not available.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else: logged, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// A problem with one input field.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name in the request body.
    pub field: &'static str,
    /// What to fix, in words for the person filling the form.
    pub message: String,
}

impl AppError {
    /// Invalid fields, each with what to fix.
    pub fn fields(problems: Vec<(&'static str, String)>) -> Self {
        Self::Invalid(
            problems
                .into_iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
        )
    }

    /// One invalid field.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError {
            field,
            message: message.into(),
        }])
    }

    /// 403 for a permission the caller lacks.
    pub fn missing(permission: crate::tenancy::permission::Permission) -> Self {
        Self::Forbidden(
            "forbidden",
            format!("Your role does not allow this (it needs the {permission} permission)."),
        )
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound | Self::Missing(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::OverQuota(_) => (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded"),
            Self::Unsupported(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            Self::Unauthorized(code, _) => (StatusCode::UNAUTHORIZED, code),
            Self::Forbidden(code, _) => (StatusCode::FORBIDDEN, code),
            Self::Conflict(code, _) => (StatusCode::CONFLICT, code),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            Self::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(error.into())
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// The body of every API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    /// The error itself.
    pub error: ErrorBody,
}

/// Code, message and request id of an API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code such as `not_found`.
    pub code: &'static str,
    /// Human-readable message, safe to show.
    pub message: String,
    /// The request's `x-request-id`, for support and log search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field problems, for forms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

/// Builds an error response with the envelope; shared by handlers, the fallback and the panic
/// guard.
pub fn envelope(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    with_fields(status, code, message, Vec::new())
}

fn with_fields(
    status: StatusCode,
    code: &'static str,
    message: impl Into<String>,
    fields: Vec<FieldError>,
) -> Response {
    let body = ErrorEnvelope {
        error: ErrorBody {
            code,
            message: message.into(),
            request_id: request_id::current(),
            fields,
        },
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match self {
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
            Self::BadRequest(message)
            | Self::Missing(message)
            | Self::OverQuota(message)
            | Self::Unsupported(message)
            | Self::Unauthorized(_, message)
            | Self::Forbidden(_, message)
            | Self::Conflict(_, message)
            | Self::TooLarge(message) => envelope(status, code, message),
            Self::Invalid(fields) => {
                let message = match fields.as_slice() {
                    [one] => one.message.clone(),
                    _ => "Some fields need attention.".to_owned(),
                };
                with_fields(status, code, message, fields)
            }
            Self::TooManyRequests(secs) => {
                let mut response = envelope(
                    status,
                    code,
                    format!("Too many attempts. Try again in {secs} seconds."),
                );
                if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
        }
    }
}
