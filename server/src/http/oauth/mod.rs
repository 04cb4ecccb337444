//! The OAuth endpoints (SPEC section 3) as thin adapters over [`OAuthService`](app::services::oauth::OAuthService): the token
//! endpoint (RFC 6749), introspection (RFC 7662), revocation (RFC 7009), each tenant's JWKS
//! and metadata document (RFC 8414), and the JSON token variant of seed 003.
//!
//! They sit outside the portal's session and cross-site layers: clients authenticate on every
//! request, and a browser app on another origin may legitimately call them.

pub mod authorize;
mod discovery;
mod error;
mod form;
mod introspection;
mod json_token;
mod revocation;
mod token;
mod userinfo;

use axum::{
    Router,
    http::header,
    routing::{get, post},
};

use app::services::oauth::OAuthService;

pub use error::OAuthResponseError;
pub use form::MAX_FORM_BYTES;

const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

/// The OAuth endpoints, with the OAuth service as their only state: axum clones a router's
/// state for every request, and the service is one reference count where the whole
/// `AppState` would be a dozen allocations.
///
/// Each tenant's endpoints live under its issuer `/t/{tenant}` (SPEC §3); the un-prefixed
/// token, introspection and revocation paths work too, since the client id names the tenant.
pub fn router(oauth: OAuthService) -> Router {
    let mut router = Router::new();
    for prefix in ["", "/t/{tenant}"] {
        router = router
            .route(
                &format!("{prefix}/oauth/token"),
                post(token::token).fallback(error::method_not_allowed),
            )
            .route(
                &format!("{prefix}/oauth/introspect"),
                post(introspection::introspect).fallback(error::method_not_allowed),
            )
            .route(
                &format!("{prefix}/oauth/revoke"),
                post(revocation::revoke).fallback(error::method_not_allowed),
            )
            .route(
                &format!("{prefix}/oauth/userinfo"),
                get(userinfo::userinfo)
                    .post(userinfo::userinfo)
                    .fallback(error::method_not_allowed),
            );
    }
    router
        .route(
            "/v1/applications/token",
            post(json_token::json_token).fallback(json_token::json_method_not_allowed),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/t/{tenant}/jwks.json", get(discovery::tenant_jwks))
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .route(
            "/t/{tenant}/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server/t/{tenant}",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::root_metadata),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::root_metadata),
        )
        .with_state(oauth)
}
