//! `POST /v1/applications/token`: seed 003's JSON variant of the client-credentials grant.

use std::time::Instant;

use axum::{
    Json,
    body::Body,
    extract::{Extension, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use app::{
    auth::ClientAddress,
    domain::oauth::ErrorCode,
    services::{
        metrics::{TokenGrant, TokenOutcome},
        oauth::{OAuthService, TokenError},
    },
};

use super::{
    NO_STORE,
    form::{BodyError, MAX_FORM_BYTES, read_limited},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonTokenRequest {
    tenant_id: String,
    application_id: String,
    application_secret: String,
}

/// Seed 003's error shape, for every answer of the JSON variant: `error` is the status's
/// reason phrase (`"Unauthorized"`), `message` a sentence.
fn json_error(status: StatusCode, message: &str) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    (
        status,
        NO_STORE,
        Json(json!({ "error": error, "message": message })),
    )
        .into_response()
}

/// `POST /v1/applications/token` (seed 003).
pub async fn json_token(
    State(oauth): State<OAuthService>,
    address: Option<Extension<ClientAddress>>,
    body: Body,
) -> Response {
    let started = Instant::now();
    // Refused before the service saw it, so counted here.
    let unread = |status, message: &str| {
        let outcome = TokenOutcome::Refused(ErrorCode::InvalidRequest);
        oauth
            .metrics()
            .token_answered(TokenGrant::Json, outcome, started);
        json_error(status, message)
    };
    let bytes = match read_limited(body).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return unread(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than {MAX_FORM_BYTES} bytes."),
            );
        }
        Err(BodyError::Unreadable) => {
            return unread(StatusCode::BAD_REQUEST, "The body could not be read.");
        }
    };
    let Ok(request) = serde_json::from_slice::<JsonTokenRequest>(&bytes) else {
        return unread(
            StatusCode::BAD_REQUEST,
            "Send a JSON object with tenantId, applicationId and applicationSecret.",
        );
    };
    let ip = address.map(|Extension(ClientAddress(ip))| ip.to_string());
    let issued = oauth
        .token_for(
            &request.tenant_id,
            &request.application_id,
            &request.application_secret,
            ip.as_deref(),
        )
        .await;
    match issued {
        Ok(issued) => (
            NO_STORE,
            Json(json!({
                "accessToken": issued.access_token,
                "tokenType": "Bearer",
                "expiresIn": issued.expires_in,
                "scope": issued.scope,
            })),
        )
            .into_response(),
        Err(TokenError::OAuth(e)) if e.code == ErrorCode::InvalidClient => json_error(
            StatusCode::UNAUTHORIZED,
            "The tenant id, application id or application secret is not valid.",
        ),
        Err(TokenError::OAuth(e)) => json_error(StatusCode::BAD_REQUEST, &e.description),
        Err(TokenError::Throttled { retry_after }) => {
            let mut response = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed authentications; try again in {retry_after} seconds."),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Err(TokenError::Internal(detail)) => {
            tracing::error!(%detail, "token service failure");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    }
}

/// Any method but POST on the JSON variant.
pub async fn json_method_not_allowed() -> Response {
    let mut response = json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint takes POST requests only.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
