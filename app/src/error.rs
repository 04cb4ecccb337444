//! The error every server function returns. It crosses the wire as JSON, so the browser learns
//! what went wrong (and the HTTP layer can pick a status) without internals leaking.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "message", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself is malformed: undecodable arguments, a missing field.
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed request that breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    #[error("You need to sign in first.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests { retry_after_secs: u64 },
    /// The browser could not reach the server (only ever built on the client side).
    #[error("Keyport could not be reached. Check your connection and try again.")]
    Unavailable,
    /// Something on our side failed. The cause is logged on the server, never sent.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
}

impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest(_) => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::Invalid(_) => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal => 500,
            AppError::Unavailable => 503,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Everything about decoding what the client sent is the client's fault.
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::Deserialization(msg)
            | ServerFnErrorErr::MissingArg(msg) => AppError::BadRequest(msg),
            ServerFnErrorErr::UnsupportedRequestMethod(msg) => AppError::BadRequest(msg),
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unavailable,
            ServerFnErrorErr::Registration(msg) => AppError::NotFound(msg),
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_error_and_message() {
        let json = serde_json::to_string(&AppError::Forbidden("Admins only.".into())).unwrap();
        assert_eq!(json, r#"{"error":"forbidden","message":"Admins only."}"#);
    }

    #[test]
    fn undecodable_arguments_are_a_bad_request() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad".into()));
        assert_eq!(err.status(), 400);
    }
}
