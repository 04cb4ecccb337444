//! The OAuth endpoints (SPEC section 3) as thin adapters over [`OAuthService`](app::services::oauth::OAuthService): the token
//! endpoint (RFC 6749), introspection (RFC 7662), revocation (RFC 7009), the JWKS, the
//! metadata document (RFC 8414), and the JSON token variant of seed 003.
//!
//! They sit outside the portal's session and cross-site layers: clients authenticate on every
//! request, and a browser app on another origin may legitimately call them.

mod discovery;
mod error;
mod form;
mod introspection;
mod json_token;
mod revocation;
mod token;

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
pub fn router(oauth: OAuthService) -> Router {
    Router::new()
        .route(
            "/oauth/token",
            post(token::token).fallback(error::method_not_allowed),
        )
        .route(
            "/oauth/introspect",
            post(introspection::introspect).fallback(error::method_not_allowed),
        )
        .route(
            "/oauth/revoke",
            post(revocation::revoke).fallback(error::method_not_allowed),
        )
        .route(
            "/v1/applications/token",
            post(json_token::json_token).fallback(json_token::json_method_not_allowed),
        )
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::metadata),
        )
        .route(
            "/.well-known/openid-configuration",
            get(discovery::metadata),
        )
        .with_state(oauth)
}
