//! The one error a command answers with: a stable `code` the webview may branch on, and a
//! `message` for people.

use serde::Serialize;
use switchboard_client::ClientError;
#[cfg(test)]
use ts_rs::TS;

/// An error a command answers with; `code` is stable, `message` is for people.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(TS))]
pub struct CmdError {
    pub code: String,
    pub message: String,
}

impl CmdError {
    pub(crate) fn new(code: &str, message: impl std::fmt::Display) -> Self {
        CmdError {
            code: code.into(),
            message: message.to_string(),
        }
    }
}

impl From<crate::local::LocalError> for CmdError {
    fn from(e: crate::local::LocalError) -> Self {
        CmdError::new("local_store", e)
    }
}

/// The hub's refusal keeps its code and message; no answer at all is `hub_unreachable`
/// (the webview then works from the local store).
impl From<ClientError> for CmdError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Unreachable(_) => CmdError::new("hub_unreachable", e),
            ClientError::Refused(h) => CmdError::new(&h.code, h.message),
            ClientError::Unreadable(_) => CmdError::new("hub_error", e),
            ClientError::BadArgument(_) => CmdError::new("invalid_argument", e),
        }
    }
}

pub type CmdResult<T> = Result<T, CmdError>;
