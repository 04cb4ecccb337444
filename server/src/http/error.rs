//! The JSON error of every non-OAuth endpoint: `{"error": "<code>", "message": "<sentence>"}`
//! (plus `field` when one input is at fault).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use app::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// `bearer_error` is the RFC 6750 code for `WWW-Authenticate` (empty: no token was sent).
    #[error("{message}")]
    Unauthorized {
        bearer_error: &'static str,
        message: String,
    },
    #[error("{0}")]
    Forbidden(String),
    /// The caller may not set this input (a developer giving an app roles).
    #[error("{message}")]
    ForbiddenField { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("This endpoint does not take that method; the Allow header lists the ones it takes.")]
    MethodNotAllowed,
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    #[error("The request body is larger than {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    Unprocessable {
        field: Option<String>,
        message: String,
    },
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("This request came from another site and was refused.")]
    CrossSite,
    #[error("The service is not ready: {0}.")]
    Unavailable(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

/// `{"error","message"}`, with `field` naming the input at fault when there is one.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::Unauthorized { .. } => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) | ApiError::ForbiddenField { .. } => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::CrossSite => (StatusCode::FORBIDDEN, "cross_site_request"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(e) => ApiError::Unprocessable {
                field: Some(e.field.to_string()),
                message: e.message,
            },
            ServiceError::Conflict(e) => ApiError::Conflict {
                field: Some(e.field.to_string()),
                message: e.message,
            },
            ServiceError::InvalidCredentials => ApiError::Unauthorized {
                bearer_error: "",
                message: error.to_string(),
            },
            ServiceError::Throttled { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            ServiceError::Forbidden(message) => ApiError::Forbidden(message),
            ServiceError::ForbiddenField(e) => ApiError::ForbiddenField {
                field: e.field.to_string(),
                message: e.message,
            },
            ServiceError::NotFound(message) => ApiError::NotFound(message),
            ServiceError::Rule(message) => ApiError::Conflict {
                field: None,
                message,
            },
            ServiceError::Store(e) => ApiError::Internal(e.to_string()),
            ServiceError::Internal(e) => ApiError::Internal(e),
            ServiceError::Sealing(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = self.status_and_code();
        let message = match &self {
            ApiError::Internal(detail) => {
                // The detail is for operators; clients get a sentence that leaks nothing.
                tracing::error!(%detail, "internal error");
                "Something went wrong on our side.".to_string()
            }
            other => other.to_string(),
        };
        let field = match &self {
            ApiError::Conflict { field, .. } | ApiError::Unprocessable { field, .. } => {
                field.clone()
            }
            ApiError::ForbiddenField { field, .. } => Some(field.clone()),
            _ => None,
        };
        let mut response = (
            status,
            Json(ErrorBody {
                error: error.to_string(),
                message,
                field,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            // RFC 6750 §3: the challenge, with the error code when a token was presented.
            ApiError::Unauthorized { bearer_error, .. } => {
                let challenge = if bearer_error.is_empty() {
                    "Bearer realm=\"keyport\"".to_string()
                } else {
                    format!("Bearer realm=\"keyport\", error=\"{bearer_error}\"")
                };
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}
