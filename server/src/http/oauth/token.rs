//! `POST /oauth/token` (RFC 6749 §3.2); the service dispatches on `grant_type`.

use std::time::Instant;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use app::{
    domain::oauth::ErrorCode,
    services::{
        metrics::{TokenGrant, TokenOutcome},
        oauth::OAuthService,
    },
};

use super::{NO_STORE, error::OAuthResponseError, form::OAuthForm};

/// RFC 6749 §5.1.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
}

/// `POST /oauth/token` and `POST {issuer}/oauth/token`.
pub async fn token(
    State(oauth): State<OAuthService>,
    request: Result<OAuthForm, Response>,
) -> Response {
    let request = match request {
        Ok(request) => request,
        Err(refused) => {
            // Refused before the service saw it: its grant_type could not even be read.
            let outcome = TokenOutcome::Refused(ErrorCode::InvalidRequest);
            oauth
                .metrics()
                .token_answered(TokenGrant::Other, outcome, Instant::now());
            return refused;
        }
    };
    match oauth.token(request.request()).await {
        Ok(issued) => (
            NO_STORE,
            Json(TokenResponse {
                access_token: &issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: &issued.scope,
                refresh_token: issued.refresh_token.as_deref(),
                id_token: issued.id_token.as_deref(),
            }),
        )
            .into_response(),
        Err(e) => OAuthResponseError::from(e).into_response(),
    }
}
