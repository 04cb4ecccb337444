//! `/apps/{client_id}/secrets`: an app's secrets, added, refreshed and deleted.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get, post},
};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::{
    model::apps::{NewSecret, SecretView},
    services::apps::{self as service, Expiry},
    state::AppState,
    store::unix_now,
};

use super::{
    ErrorResponses,
    extractors::{ApiPath, Caller, OptionalJsonBody},
    wire::{nullable, parse_rfc3339, rfc3339},
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/apps/{client_id}/secrets",
            get(list_secrets).post(add_secret),
        )
        .route(
            "/apps/{client_id}/secrets/{secret_id}/refresh",
            post(refresh_secret),
        )
        .route(
            "/apps/{client_id}/secrets/{secret_id}",
            delete(delete_secret),
        )
}

#[derive(OpenApi)]
#[openapi(paths(list_secrets, add_secret, refresh_secret, delete_secret))]
pub struct Doc;

/// A client secret; never its plaintext.
#[derive(Debug, Serialize, ToSchema)]
struct Secret {
    id: String,
    description: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    grace_until: Option<String>,
}

impl From<SecretView> for Secret {
    fn from(s: SecretView) -> Self {
        Secret {
            id: s.id,
            description: s.description,
            prefix: s.prefix,
            created_at: rfc3339(s.created_at),
            expires_at: s.expires_at.map(rfc3339),
            last_used_at: s.last_used_at.map(rfc3339),
            revoked_at: s.revoked_at.map(rfc3339),
            grace_until: s.grace_until.map(rfc3339),
        }
    }
}

/// A new secret with its plaintext, shown this once.
#[derive(Debug, Serialize, ToSchema)]
struct CreatedSecret {
    #[serde(flatten)]
    details: Secret,
    /// The plaintext, shown this once: Keyport keeps only a hash.
    secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSecretBody {
    #[serde(default)]
    description: Option<String>,
    /// Omitted: one year from now. `null`: never. Else an RFC 3339 time in the future.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    /// How long the old secret keeps working: 0 (default) to 604800 seconds.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 604800)]
    grace_seconds: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/apps/{client_id}/secrets", params(("client_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = Vec<Secret>), ErrorResponses))]
async fn list_secrets(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<Vec<Secret>>, ApiError> {
    let list = service::list_secrets(&state.db, &caller.principal, &client_id, unix_now()).await?;
    Ok(Json(list.into_iter().map(Secret::from).collect()))
}

fn created_secret(s: NewSecret) -> CreatedSecret {
    CreatedSecret {
        details: s.secret.into(),
        secret: s.plaintext,
    }
}

/// Add a secret; the answer holds its plaintext, once.
#[utoipa::path(post, path = "/api/v1/apps/{client_id}/secrets", params(("client_id" = String, Path)),
    request_body = NewSecretBody, security(("bearer" = [])),
    responses((status = 201, body = CreatedSecret), ErrorResponses))]
async fn add_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
    OptionalJsonBody(body): OptionalJsonBody<NewSecretBody>,
) -> Result<(StatusCode, Json<CreatedSecret>), ApiError> {
    let expiry = match body.expires_at {
        None => Expiry::Default,
        Some(None) => Expiry::Never,
        Some(Some(at)) => Expiry::At(parse_rfc3339("expires_at", &at)?),
    };
    let added = service::add_secret(
        &state.db,
        &state.hasher,
        &caller.principal,
        &client_id,
        body.description.as_deref().unwrap_or_default(),
        expiry,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created_secret(added))))
}

/// Replace a secret by a new one; the old one stops now or after `grace_seconds`.
#[utoipa::path(post, path = "/api/v1/apps/{client_id}/secrets/{secret_id}/refresh",
    params(("client_id" = String, Path), ("secret_id" = String, Path)),
    request_body = RefreshBody, security(("bearer" = [])),
    responses((status = 201, body = CreatedSecret), ErrorResponses))]
async fn refresh_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((client_id, secret_id)): ApiPath<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<RefreshBody>,
) -> Result<(StatusCode, Json<CreatedSecret>), ApiError> {
    let refreshed = service::refresh_secret(
        &state.db,
        &state.hasher,
        &caller.principal,
        &client_id,
        &secret_id,
        body.grace_seconds.unwrap_or(0),
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created_secret(refreshed))))
}

/// Delete a secret: it stops working at once.
#[utoipa::path(delete, path = "/api/v1/apps/{client_id}/secrets/{secret_id}",
    params(("client_id" = String, Path), ("secret_id" = String, Path)),
    security(("bearer" = [])), responses((status = 204), ErrorResponses))]
async fn delete_secret(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((client_id, secret_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    service::delete_secret(
        &state.db,
        &caller.principal,
        &client_id,
        &secret_id,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
