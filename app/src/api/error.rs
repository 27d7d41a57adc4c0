//! The error every account and organisation server function returns: the API's status, code,
//! message and per-field problems, so forms can put each message next to its field.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A problem with one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// What to fix.
    pub message: String,
}

/// A refused or failed call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status (0 when the server could not be reached).
    pub status: u16,
    /// Stable code, e.g. `mfa_required`.
    pub code: String,
    /// Message to show.
    pub message: String,
    /// Per-field problems.
    #[serde(default)]
    pub fields: Vec<FieldError>,
}

impl ApiError {
    /// The message for `field`, if it has one.
    pub fn field(&self, field: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == field)
            .map(|f| f.message.clone())
    }

    /// An error without fields.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let message = match &value {
            ServerFnErrorErr::Request(_) => {
                "Faultline could not be reached. Check your connection and try again.".to_owned()
            }
            other => other.to_string(),
        };
        Self::new(0, "transport", message)
    }
}

/// The field's message from the last result of an action, for a form.
pub fn field_error<T>(result: &Option<Result<T, ApiError>>, field: &str) -> Option<String> {
    match result {
        Some(Err(e)) => e.field(field),
        _ => None,
    }
}

/// The general message of the last result, when it is not about one field.
pub fn form_error<T>(result: &Option<Result<T, ApiError>>) -> Option<String> {
    match result {
        Some(Err(e)) if e.fields.is_empty() => Some(e.message.clone()),
        Some(Err(e)) if e.fields.len() > 1 => Some("Some fields need attention.".to_owned()),
        _ => None,
    }
}
