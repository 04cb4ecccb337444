//! What a client reads before it calls: the signing keys and the metadata document.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::json;

use app::services::oauth::OAuthService;

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(oauth): State<OAuthService>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            // Short: a rotated key is published well before it signs (keys rotate --lead-secs).
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        oauth.jwks(),
    )
        .into_response()
}

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`:
/// what works today, nothing more: the grant and response types come from the registered
/// grants ([`app::services::oauth::Grant::REGISTERED`]).
pub async fn metadata(State(oauth): State<OAuthService>) -> Response {
    let issuer = oauth.public_url();
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/oauth/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "grant_types_supported": oauth.grant_types_supported(),
            "response_types_supported": oauth.response_types_supported(),
            "token_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            // Scopes belong to each tenant's catalogue; none are global.
            "scopes_supported": [],
            "token_endpoint_auth_signing_alg_values_supported": [],
            "access_token_signing_alg_values_supported": [oauth.algorithm().as_str()],
        })),
    )
        .into_response()
}
