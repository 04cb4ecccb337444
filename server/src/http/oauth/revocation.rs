use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use app::services::oauth::OAuthService;

use super::{NO_STORE, error::OAuthResponseError, form::OAuthForm};

/// `POST /oauth/revoke` (RFC 7009).
pub async fn revoke(State(oauth): State<OAuthService>, request: OAuthForm) -> Response {
    let answer = oauth.revoke(&request.request()).await;
    match answer {
        Ok(()) => (StatusCode::OK, NO_STORE).into_response(),
        Err(e) => OAuthResponseError::from(e).into_response(),
    }
}
