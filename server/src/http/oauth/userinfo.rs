//! `GET/POST /oauth/userinfo` (OpenID Connect Core §5.3) with a bearer token (RFC 6750).

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use app::services::oauth::{OAuthService, userinfo::UserinfoError};

use super::NO_STORE;

pub async fn userinfo(
    State(oauth): State<OAuthService>,
    tenant: Option<Path<String>>,
    headers: HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return refused(StatusCode::UNAUTHORIZED, "Bearer realm=\"keyport\"", None);
    };
    let tenant = tenant.map(|Path(t)| t);
    match oauth.userinfo(tenant.as_deref(), token).await {
        Ok(info) => (NO_STORE, Json(info)).into_response(),
        Err(UserinfoError::InvalidToken) => refused(
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"keyport\", error=\"invalid_token\"",
            Some((
                "invalid_token",
                "The access token is not a live token of a signed-in person.",
            )),
        ),
        Err(UserinfoError::InsufficientScope) => refused(
            StatusCode::FORBIDDEN,
            "Bearer realm=\"keyport\", error=\"insufficient_scope\", scope=\"openid\"",
            Some((
                "insufficient_scope",
                "The access token was not granted the openid scope.",
            )),
        ),
        Err(UserinfoError::Internal(detail)) => {
            tracing::error!(%detail, "userinfo failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                NO_STORE,
                Json(json!({ "error": "server_error" })),
            )
                .into_response()
        }
    }
}

fn refused(status: StatusCode, challenge: &'static str, error: Option<(&str, &str)>) -> Response {
    let body = error.map_or_else(
        || json!({ "error": "invalid_token", "error_description": "Send an access token as a Bearer token." }),
        |(code, description)| json!({ "error": code, "error_description": description }),
    );
    let mut response = (status, NO_STORE, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
