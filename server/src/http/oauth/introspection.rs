use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
};
use serde_json::json;

use app::services::oauth::OAuthService;

use super::{NO_STORE, error::OAuthResponseError, form::OAuthForm};

/// `POST /oauth/introspect` (RFC 7662).
pub async fn introspect(State(oauth): State<OAuthService>, request: OAuthForm) -> Response {
    let answer = oauth.introspect(&request.request()).await;
    match answer {
        Ok(Some(claims)) => {
            let mut body = json!({
                "active": true,
                "token_type": "Bearer",
                "client_id": claims.client_id,
                "scope": claims.scope,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "tenant": claims.tenant,
            });
            if !claims.roles.is_empty() {
                body["roles"] = json!(claims.roles);
            }
            (NO_STORE, Json(body)).into_response()
        }
        Ok(None) => (NO_STORE, Json(json!({ "active": false }))).into_response(),
        Err(e) => OAuthResponseError::from(e).into_response(),
    }
}
