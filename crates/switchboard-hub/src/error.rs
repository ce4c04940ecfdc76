//! The one error type of the HTTP edge: it decides the status and a client-safe message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
pub use switchboard_wire::{ErrorBody, ErrorDetail};

/// An error answered to a client as `{"error": {"code", "message"}}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// `client_taken`: the name of the employee who answers that client.
    pub owner: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            owner: None,
        }
    }
    /// Malformed input: names the field.
    pub fn bad_field(field: &str, problem: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_field",
            format!("{field}: {problem}"),
        )
    }
    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or unknown token",
        )
    }
    pub fn forbidden(what: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("your role may not {what}"),
        )
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    /// Anything unexpected: logged in full here, answered without details.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the hub's log",
        )
    }
}

impl From<crate::workspace::Refusal> for ApiError {
    fn from(r: crate::workspace::Refusal) -> Self {
        use crate::workspace::RefusalKind;
        let status = match r.kind() {
            RefusalKind::NotFound => StatusCode::NOT_FOUND,
            RefusalKind::Forbidden => StatusCode::FORBIDDEN,
            RefusalKind::Invalid => StatusCode::BAD_REQUEST,
            RefusalKind::Conflict => StatusCode::CONFLICT,
            RefusalKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RefusalKind::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        let mut e = ApiError::new(status, r.code(), r.to_string());
        e.owner = r.owner().map(str::to_owned);
        e
    }
}

impl From<crate::workspace::WorkspaceError> for ApiError {
    fn from(e: crate::workspace::WorkspaceError) -> Self {
        match e {
            crate::workspace::WorkspaceError::Refused(r) => r.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::internal(e)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::info!(status = self.status.as_u16(), code = self.code, message = %self.message, "request refused");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                owner: self.owner,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
