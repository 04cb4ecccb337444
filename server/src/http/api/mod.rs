//! The management API (SPEC section 4): JSON under `/api/v1`, thin adapters over the same
//! services as the portal's server functions. Callers are a tool client with the `admin` role
//! (a bearer access token for `{issuer}/api/v1`) or a signed-in portal session.
//!
//! One module per resource, each with its `router()` and the OpenAPI description of its
//! operations; this one joins them and answers what no route claims.

use axum::{
    Json, Router,
    response::{IntoResponse, Response},
    routing::get,
};
use utoipa::OpenApi;

use app::state::AppState;

use super::error::{ApiError, ErrorBody};

mod apps;
mod audit;
mod extractors;
mod paging;
mod roles;
mod scopes;
mod secrets;
mod tenant;
mod wire;

/// Mounted at `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .merge(apps::router())
        .merge(secrets::router())
        .merge(audit::router())
        .merge(tenant::router())
        .merge(scopes::router())
        .merge(roles::router())
        // After the routes: it applies to those registered before it.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("No such endpoint.".into())
}

/// The route exists, the method does not; axum adds the `Allow` header.
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The errors any operation may answer, all `{"error","message"}`.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only describes responses for the OpenAPI document
enum ErrorResponses {
    /// Malformed request: not JSON, a bad cursor.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No credentials, or an invalid, expired or revoked token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Authenticated but not allowed.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object in this tenant.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Conflicts with the current state.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Body over 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// Well-formed but breaks a rule (wrong types, unknown fields, invalid values).
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token of a tool client with the admin role, for the resource {issuer}/api/v1.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds each resource module's operations (and the schemas they use) to the document.
struct ResourceOperations;

impl utoipa::Modify for ResourceOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Listed in the modules rather than here: a path named `apps::list_apps` would make
        // utoipa tag its operation `apps`, which the document has never done.
        for operations in [
            apps::Doc::openapi(),
            secrets::Doc::openapi(),
            audit::Doc::openapi(),
            tenant::Doc::openapi(),
            scopes::Doc::openapi(),
            roles::Doc::openapi(),
        ] {
            openapi.merge(operations);
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyport management API", description = "Apps, secrets, the tenant, its scope and role catalogues and audit log."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &ResourceOperations)
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`.
async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
