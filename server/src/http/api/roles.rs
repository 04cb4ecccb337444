//! `/roles`: the tenant's role catalogue, which admins give apps their roles from.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get},
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::{
    model::tenant::RoleView, services::roles as role_service, state::AppState, store::unix_now,
};

use super::{
    ErrorResponses,
    extractors::{ApiPath, Caller, JsonBody},
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/roles", get(list_roles).post(add_role))
        .route("/roles/{name}", delete(delete_role))
}

#[derive(OpenApi)]
#[openapi(paths(list_roles, add_role, delete_role))]
pub struct Doc;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Role {
    /// As a scope-token: printable ASCII without spaces, quotes or backslashes.
    #[schema(pattern = r"^[!#-\[\]-~]{1,64}$")]
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(get, path = "/api/v1/roles", security(("bearer" = [])),
    responses((status = 200, body = Vec<Role>), ErrorResponses))]
async fn list_roles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Role>>, ApiError> {
    let list = role_service::list_roles(&state.db, &caller.principal).await?;
    Ok(Json(
        list.into_iter()
            .map(|RoleView { name, description }| Role { name, description })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/roles", request_body = Role, security(("bearer" = [])),
    responses((status = 201, body = Role), ErrorResponses))]
async fn add_role(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(role): JsonBody<Role>,
) -> Result<(StatusCode, Json<Role>), ApiError> {
    role_service::add_role(
        &state.db,
        &caller.principal,
        &role.name,
        &role.description,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

/// 409 while apps still have the role (the message names them), and for `admin`, built in.
#[utoipa::path(delete, path = "/api/v1/roles/{name}", params(("name" = String, Path)),
    security(("bearer" = [])), responses((status = 204), ErrorResponses))]
async fn delete_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    role_service::delete_role(
        &state.db,
        &caller.principal,
        &name,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
