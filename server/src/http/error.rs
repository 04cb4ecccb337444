//! The JSON error of every non-OAuth endpoint: `{"error": "<code>", "message": "<sentence>"}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("The request body is larger than {limit} bytes.")]
    PayloadTooLarge { limit: usize },
    #[error("This request came from another site and was refused.")]
    CrossSite,
    #[error("The service is not ready: {0}.")]
    Unavailable(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::CrossSite => (StatusCode::FORBIDDEN, "cross_site_request"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
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
        (status, Json(ErrorBody { error, message })).into_response()
    }
}
