//! The error every server function returns. It crosses the wire as JSON
//! (`{"error": "<code>", "message": "…", …}`), so the browser learns what went wrong — and which
//! field caused it — and the HTTP layer can pick a status, without internals leaking.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

use crate::domain::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum AppError {
    /// The request itself is malformed: undecodable arguments, a missing field.
    #[error("{message}")]
    BadRequest { message: String },
    /// Well-formed input that breaks a rule; `field` names the input to show it beside.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{message}")]
    Unauthorized { message: String },
    /// Not allowed; `field` names the input the signed-in person may not set, if one.
    #[error("{message}")]
    Forbidden {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        message: String,
    },
    #[error("{message}")]
    NotFound { message: String },
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
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
            AppError::BadRequest { .. } => 400,
            AppError::Unauthorized { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::Invalid { .. } => 422,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal => 500,
            AppError::Unavailable => 503,
        }
    }

    /// The input field this error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. }
            | AppError::Conflict { field, .. }
            | AppError::Forbidden { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub fn unauthorized() -> AppError {
        AppError::Unauthorized {
            message: "You need to sign in first.".into(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::Forbidden {
            field: None,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::NotFound {
            message: message.into(),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> AppError {
        AppError::Invalid {
            field: Some(error.field.to_string()),
            message: error.message,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Everything about decoding what the client sent is the client's fault.
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::Deserialization(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::UnsupportedRequestMethod(message) => {
                AppError::BadRequest { message }
            }
            ServerFnErrorErr::Registration(message) => AppError::NotFound { message },
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unavailable,
            _ => AppError::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
mod from_service {
    use super::AppError;
    use crate::services::ServiceError;

    /// A use case's refusal, as the portal shows it; internal causes are logged here, never sent.
    impl From<ServiceError> for AppError {
        fn from(error: ServiceError) -> AppError {
            match error {
                ServiceError::Invalid(e) => e.into(),
                ServiceError::Conflict(e) => AppError::Conflict {
                    field: Some(e.field.to_string()),
                    message: e.message,
                },
                ServiceError::InvalidCredentials => AppError::Unauthorized {
                    message: ServiceError::InvalidCredentials.to_string(),
                },
                ServiceError::Throttled { retry_after_secs } => {
                    AppError::TooManyRequests { retry_after_secs }
                }
                ServiceError::Forbidden(message) => AppError::Forbidden {
                    field: None,
                    message,
                },
                ServiceError::ForbiddenField(e) => AppError::Forbidden {
                    field: Some(e.field.to_string()),
                    message: e.message,
                },
                ServiceError::NotFound(message) => AppError::NotFound { message },
                ServiceError::Rule(message) => AppError::Conflict {
                    field: None,
                    message,
                },
                ServiceError::Store(e) => {
                    tracing::error!(error = %e, "store failure");
                    AppError::Internal
                }
                ServiceError::Internal(e) => {
                    tracing::error!(error = %e, "internal failure");
                    AppError::Internal
                }
                ServiceError::Sealing(e) => {
                    tracing::error!(error = %e, "sealed key failure");
                    AppError::Internal
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_error_and_message() {
        let json = serde_json::to_string(&AppError::forbidden("Admins only.")).unwrap();
        assert_eq!(json, r#"{"error":"forbidden","message":"Admins only."}"#);
        let json =
            serde_json::to_string(&AppError::from(FieldError::new("email", "Bad."))).unwrap();
        assert_eq!(
            json,
            r#"{"error":"invalid","field":"email","message":"Bad."}"#
        );
    }

    #[test]
    fn round_trips() {
        let err = AppError::TooManyRequests {
            retry_after_secs: 30,
        };
        let back: AppError = serde_json::from_str(&serde_json::to_string(&err).unwrap()).unwrap();
        assert_eq!(back, err);
    }

    #[test]
    fn undecodable_arguments_are_a_bad_request() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args("bad".into()));
        assert_eq!(err.status(), 400);
    }
}
