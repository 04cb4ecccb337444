//! What a client or resource server reads before it calls: each tenant's discovery document
//! and signing keys, under that tenant's issuer.

use axum::{
    Json,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

use app::services::oauth::OAuthService;

use super::error::{OAuthResponseError, error_body};

/// `GET {issuer}/jwks.json` (and the un-prefixed `/.well-known/jwks.json`): every tenant's
/// tokens are signed by the server's keys, so each tenant's set is the same document.
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

/// `GET {issuer}/jwks.json`: the keys, for a tenant that exists.
pub async fn tenant_jwks(
    State(oauth): State<OAuthService>,
    Path(tenant): Path<String>,
) -> Response {
    match oauth.tenant_exists(&tenant).await {
        Ok(true) => jwks(State(oauth)).await,
        Ok(false) => no_such_tenant(),
        Err(e) => OAuthResponseError::from(e).into_response(),
    }
}

/// `GET {issuer}/.well-known/openid-configuration`, `{issuer}/.well-known/oauth-authorization-server`
/// and the RFC 8414 §3 form `/.well-known/oauth-authorization-server/t/{tenant}`.
pub async fn metadata(State(oauth): State<OAuthService>, Path(tenant): Path<String>) -> Response {
    match oauth.metadata(&tenant).await {
        Ok(Some(document)) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(document),
        )
            .into_response(),
        Ok(None) => no_such_tenant(),
        Err(e) => OAuthResponseError::from(e).into_response(),
    }
}

/// The root discovery documents: there is no server-wide issuer, so a client configured with
/// the bare public URL is told where its tenant's document is.
pub async fn root_metadata(State(oauth): State<OAuthService>) -> Response {
    let public_url = oauth.public_url();
    error_body(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!(
            "Each tenant is its own issuer: read {public_url}/t/{{tenant_id}}/.well-known/openid-configuration \
             (Settings → Tenant in the portal shows your tenant's issuer and discovery URL)."
        ),
    )
}

fn no_such_tenant() -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such tenant on this server.",
    )
}
