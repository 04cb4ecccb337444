//! `/apps`: registering, reading, changing and deleting apps.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use app::{
    domain::paging::{Page, PageRequest},
    model::apps::{AppView, ClientType, Visibility},
    services::apps::{self as service, AppChanges, AppDraft},
    state::AppState,
    store::unix_now,
};

use super::{
    ErrorResponses,
    extractors::{ApiPath, ApiQuery, Caller, JsonBody},
    paging::PageQuery,
    wire::{nullable, rfc3339},
};
use crate::http::error::ApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/apps", get(list_apps).post(create_app))
        .route(
            "/apps/{client_id}",
            get(get_app).patch(update_app).delete(delete_app),
        )
}

#[derive(OpenApi)]
#[openapi(paths(list_apps, create_app, get_app, update_app, delete_app))]
pub struct Doc;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum VisibilityDto {
    Private,
    Public,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum ClientTypeDto {
    Confidential,
    Public,
}

impl From<VisibilityDto> for Visibility {
    fn from(v: VisibilityDto) -> Self {
        match v {
            VisibilityDto::Private => Visibility::Private,
            VisibilityDto::Public => Visibility::Public,
        }
    }
}

impl From<Visibility> for VisibilityDto {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Private => VisibilityDto::Private,
            Visibility::Public => VisibilityDto::Public,
        }
    }
}

impl From<ClientTypeDto> for ClientType {
    fn from(v: ClientTypeDto) -> Self {
        match v {
            ClientTypeDto::Confidential => ClientType::Confidential,
            ClientTypeDto::Public => ClientType::Public,
        }
    }
}

impl From<ClientType> for ClientTypeDto {
    fn from(v: ClientType) -> Self {
        match v {
            ClientType::Confidential => ClientTypeDto::Confidential,
            ClientType::Public => ClientTypeDto::Public,
        }
    }
}

/// A registered client.
#[derive(Debug, Serialize, ToSchema)]
struct App {
    client_id: String,
    name: String,
    description: String,
    visibility: VisibilityDto,
    client_type: ClientTypeDto,
    tool: bool,
    callback_url: Option<String>,
    scopes: Vec<String>,
    roles: Vec<String>,
    audiences: Vec<String>,
    token_lifetime_secs: i64,
    /// The `grant_type` values it may use.
    grant_types: Vec<String>,
    disabled: bool,
    created_at: String,
}

impl From<AppView> for App {
    fn from(a: AppView) -> Self {
        App {
            client_id: a.client_id,
            name: a.name,
            description: a.description,
            visibility: a.visibility.into(),
            client_type: a.client_type.into(),
            tool: a.tool,
            callback_url: a.callback_url,
            scopes: a.scopes,
            roles: a.roles,
            audiences: a.audiences,
            token_lifetime_secs: a.token_lifetime_secs,
            grant_types: a.grant_types,
            disabled: a.disabled,
            created_at: rfc3339(a.created_at),
        }
    }
}

/// The answer to creating an app: a confidential app's first secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
struct CreatedApp {
    #[serde(flatten)]
    app: App,
    client_secret: Option<String>,
    secret_id: Option<String>,
}

impl From<service::CreatedApp> for CreatedApp {
    fn from(created: service::CreatedApp) -> Self {
        let (client_secret, secret_id) = match created.first_secret {
            Some(s) => (Some(s.plaintext), Some(s.secret.id)),
            None => (None, None),
        };
        CreatedApp {
            app: created.app.into(),
            client_secret,
            secret_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApp {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    visibility: Option<VisibilityDto>,
    #[serde(default)]
    client_type: Option<ClientTypeDto>,
    #[serde(default)]
    tool: Option<bool>,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    audiences: Option<Vec<String>>,
    #[serde(default)]
    #[schema(minimum = 60, maximum = 3600)]
    token_lifetime_secs: Option<i64>,
    /// `client_credentials`, `authorization_code`, `refresh_token`,
    /// `urn:ietf:params:oauth:grant-type:device_code`. Omitted: `client_credentials` for a
    /// confidential app, plus `authorization_code` and `refresh_token` when it has a callback
    /// URL; for a public app `authorization_code`, `refresh_token` and the device grant.
    #[serde(default)]
    grant_types: Option<Vec<String>>,
}

impl From<NewApp> for AppDraft {
    /// What the body leaves out keeps [`AppDraft::new`]'s default.
    fn from(body: NewApp) -> AppDraft {
        let default = AppDraft::new(body.name);
        AppDraft {
            name: default.name,
            description: body.description.unwrap_or(default.description),
            visibility: body.visibility.map_or(default.visibility, Into::into),
            client_type: body.client_type.map_or(default.client_type, Into::into),
            tool: body.tool.unwrap_or(default.tool),
            callback_url: body.callback_url.or(default.callback_url),
            scopes: body.scopes.unwrap_or(default.scopes),
            roles: body.roles.unwrap_or(default.roles),
            token_lifetime_secs: body
                .token_lifetime_secs
                .unwrap_or(default.token_lifetime_secs),
            audiences: body.audiences.unwrap_or(default.audiences),
            grant_types: body.grant_types.or(default.grant_types),
        }
    }
}

/// Fields to change; the others keep their values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AppPatch {
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    visibility: Option<VisibilityDto>,
    /// `null` removes the callback URL.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    callback_url: Option<Option<String>>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    roles: Option<Vec<String>>,
    #[serde(default)]
    audiences: Option<Vec<String>>,
    #[serde(default)]
    #[schema(minimum = 60, maximum = 3600)]
    token_lifetime_secs: Option<i64>,
    /// The grants it may use from now on (see creating an app for the names). Refusing a
    /// callback URL's removal while `authorization_code` is allowed names `callback_url`.
    #[serde(default)]
    grant_types: Option<Vec<String>>,
}

impl From<AppPatch> for AppChanges {
    fn from(patch: AppPatch) -> AppChanges {
        AppChanges {
            name: patch.name,
            description: patch.description,
            visibility: patch.visibility.map(Into::into),
            callback_url: patch.callback_url,
            scopes: patch.scopes,
            roles: patch.roles,
            audiences: patch.audiences,
            token_lifetime_secs: patch.token_lifetime_secs,
            grant_types: patch.grant_types,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct AppPage {
    items: Vec<App>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

impl From<Page<AppView>> for AppPage {
    fn from(page: Page<AppView>) -> Self {
        AppPage {
            items: page.items.into_iter().map(App::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// List the tenant's apps (a developer's session: their own), newest first.
#[utoipa::path(get, path = "/api/v1/apps", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = AppPage), ErrorResponses))]
async fn list_apps(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AppPage>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let apps = service::list_apps_page(&state.db, &caller.principal, page).await?;
    Ok(Json(apps.into()))
}

/// Register an app; a confidential app's answer holds its first secret, once.
#[utoipa::path(post, path = "/api/v1/apps", request_body = NewApp, security(("bearer" = [])),
    responses((status = 201, body = CreatedApp), ErrorResponses))]
async fn create_app(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewApp>,
) -> Result<(StatusCode, Json<CreatedApp>), ApiError> {
    let created = service::create_app(
        &state.db,
        &state.hasher,
        &state.public_url,
        &caller.principal,
        body.into(),
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[utoipa::path(get, path = "/api/v1/apps/{client_id}", params(("client_id" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = App), ErrorResponses))]
async fn get_app(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(
        service::get_app(&state.db, &caller.principal, &client_id)
            .await?
            .into(),
    ))
}

/// Change name, description, visibility, callback URL, scopes, roles, audiences, lifetime,
/// grant types.
#[utoipa::path(patch, path = "/api/v1/apps/{client_id}", params(("client_id" = String, Path)),
    request_body = AppPatch, security(("bearer" = [])),
    responses((status = 200, body = App), ErrorResponses))]
async fn update_app(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
    JsonBody(patch): JsonBody<AppPatch>,
) -> Result<Json<App>, ApiError> {
    let updated = service::update_app(
        &state.db,
        &state.public_url,
        &caller.principal,
        &client_id,
        patch.into(),
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(Json(updated.into()))
}

/// Delete an app: its client id and secrets stop working at once.
#[utoipa::path(delete, path = "/api/v1/apps/{client_id}", params(("client_id" = String, Path)),
    security(("bearer" = [])), responses((status = 204), ErrorResponses))]
async fn delete_app(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    service::delete_app(
        &state.db,
        &caller.principal,
        &client_id,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
