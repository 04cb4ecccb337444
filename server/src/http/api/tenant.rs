//! `/tenant`: the caller's tenant, its name, default audience, issuer and discovery URL.

use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::{
    model::tenant::TenantView,
    services::tenant::{self as tenant_service, TenantChanges},
    state::AppState,
    store::unix_now,
};

use super::{
    ErrorResponses,
    extractors::{Caller, JsonBody},
    wire::nullable,
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new().route("/tenant", get(get_tenant).patch(update_tenant))
}

#[derive(OpenApi)]
#[openapi(paths(get_tenant, update_tenant))]
pub struct Doc;

#[derive(Debug, Serialize, ToSchema)]
struct Tenant {
    id: String,
    name: String,
    audience: String,
    /// The `iss` of this tenant's tokens.
    issuer: String,
    /// The tenant's OpenID / RFC 8414 discovery document.
    discovery_url: String,
}

impl From<TenantView> for Tenant {
    fn from(t: TenantView) -> Self {
        Tenant {
            id: t.id,
            name: t.name,
            audience: t.audience,
            issuer: t.issuer,
            discovery_url: t.discovery_url,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TenantPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    /// `null` or empty returns to the derived default audience.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    audience: Option<Option<String>>,
}

#[utoipa::path(get, path = "/api/v1/tenant", security(("bearer" = [])),
    responses((status = 200, body = Tenant), ErrorResponses))]
async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(
        tenant_service::get_tenant(&state.db, &state.public_url, &caller.principal)
            .await?
            .into(),
    ))
}

/// Admins change the tenant's name and default audience.
#[utoipa::path(patch, path = "/api/v1/tenant", request_body = TenantPatch, security(("bearer" = [])),
    responses((status = 200, body = Tenant), ErrorResponses))]
async fn update_tenant(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(patch): JsonBody<TenantPatch>,
) -> Result<Json<Tenant>, ApiError> {
    let updated = tenant_service::update_tenant(
        &state.db,
        &state.public_url,
        &caller.principal,
        TenantChanges {
            name: patch.name,
            audience: patch.audience,
        },
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(Json(updated.into()))
}
