//! RFC 6749 §5.2: the error response every OAuth endpoint answers with.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use app::{
    domain::oauth::{ErrorCode, OAuthError},
    services::oauth::TokenError,
};

use super::NO_STORE;

/// The RFC 6749 §5.2 error response, which every OAuth endpoint answers with.
#[derive(Debug)]
pub struct OAuthResponseError(TokenError);

impl From<TokenError> for OAuthResponseError {
    fn from(e: TokenError) -> Self {
        OAuthResponseError(e)
    }
}

impl From<OAuthError> for OAuthResponseError {
    fn from(e: OAuthError) -> Self {
        OAuthResponseError(TokenError::OAuth(e))
    }
}

pub(super) fn error_body(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        NO_STORE,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

impl IntoResponse for OAuthResponseError {
    fn into_response(self) -> Response {
        match self.0 {
            TokenError::OAuth(e) => {
                let status = match e.code {
                    ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                let mut response = error_body(status, e.code.as_str(), &e.description);
                if e.basic_attempted && status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"keyport\""),
                    );
                }
                response
            }
            TokenError::Throttled { retry_after } => {
                let mut response = error_body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    &format!(
                        "Too many failed client authentications; try again in {retry_after} seconds."
                    ),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            TokenError::Internal(detail) => {
                tracing::error!(%detail, "token service failure");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Something went wrong on our side.",
                )
            }
        }
    }
}

/// Any method but POST on an OAuth endpoint.
pub async fn method_not_allowed() -> Response {
    let mut response = error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "This endpoint takes POST requests only.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
