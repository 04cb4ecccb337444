//! `/scopes`: the tenant's scope catalogue, which apps choose their scopes from.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get},
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::{
    model::tenant::ScopeView, services::tenant as tenant_service, state::AppState, store::unix_now,
};

use super::{
    ErrorResponses,
    extractors::{ApiPath, Caller, JsonBody},
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scopes", get(list_scopes).post(add_scope))
        .route("/scopes/{name}", delete(delete_scope))
}

#[derive(OpenApi)]
#[openapi(paths(list_scopes, add_scope, delete_scope))]
pub struct Doc;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Scope {
    /// An RFC 6749 scope-token: printable ASCII without spaces, quotes or backslashes.
    #[schema(pattern = r"^[!#-\[\]-~]{1,64}$")]
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(get, path = "/api/v1/scopes", security(("bearer" = [])),
    responses((status = 200, body = Vec<Scope>), ErrorResponses))]
async fn list_scopes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Scope>>, ApiError> {
    let list = tenant_service::list_scopes(&state.db, &caller.principal).await?;
    Ok(Json(
        list.into_iter()
            .map(|ScopeView { name, description }| Scope { name, description })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/scopes", request_body = Scope, security(("bearer" = [])),
    responses((status = 201, body = Scope), ErrorResponses))]
async fn add_scope(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(scope): JsonBody<Scope>,
) -> Result<(StatusCode, Json<Scope>), ApiError> {
    tenant_service::add_scope(
        &state.db,
        &caller.principal,
        &scope.name,
        &scope.description,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(scope)))
}

#[utoipa::path(delete, path = "/api/v1/scopes/{name}", params(("name" = String, Path)),
    security(("bearer" = [])), responses((status = 204), ErrorResponses))]
async fn delete_scope(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    tenant_service::delete_scope(
        &state.db,
        &caller.principal,
        &name,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
