//! The management API (SPEC section 4): JSON under `/api/v1`, thin adapters over the same
//! services as the portal's server functions. Callers are a tool client with the `admin` role
//! (a bearer access token for `{issuer}/api/v1`) or a signed-in portal session.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::{IntoParams, OpenApi, ToSchema};

use app::{
    model::{
        apps::{AppView, ClientType, SecretView, Visibility},
        tenant::{ScopeView, TenantView},
    },
    services::{
        accounts::Principal,
        apps::{self as service, AppDraft, Expiry},
        oauth::BearerRejection,
        tenant as tenant_service,
    },
    state::AppState,
    store::{audit, unix_now},
};

use super::error::{ApiError, ErrorBody};

/// Mounted at `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/apps", get(list_apps).post(create_app))
        .route(
            "/apps/{client_id}",
            get(get_app).patch(update_app).delete(delete_app),
        )
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
            axum::routing::delete(delete_secret),
        )
        .route("/audit", get(list_audit))
        .route("/tenant", get(get_tenant).patch(update_tenant))
        .route("/scopes", get(list_scopes).post(add_scope))
        .route("/scopes/{name}", axum::routing::delete(delete_scope))
        // After the routes: it applies to those registered before it.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
}

/// `Path`, answering a segment it cannot read (not UTF-8, say) in the API's error shape
/// rather than axum's plain text.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(_) => Err(ApiError::BadRequest(
                "The URL path is not valid: its segments must be UTF-8.".into(),
            )),
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("No such endpoint.".into())
}

/// The route exists, the method does not; axum adds the `Allow` header.
async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Who is calling, with the address for audit events.
pub struct Caller {
    principal: Principal,
    ip: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let principal = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
                    .ok_or_else(|| ApiError::Unauthorized {
                        bearer_error: "invalid_request",
                        message: "Send an access token as `Authorization: Bearer <token>`.".into(),
                    })?;
                match state.oauth.management_principal(token).await {
                    Ok(principal) => principal,
                    Err(BearerRejection::InvalidToken) => {
                        return Err(ApiError::Unauthorized {
                            bearer_error: "invalid_token",
                            message: "The access token is invalid, expired, revoked, or not for this API."
                                .into(),
                        });
                    }
                    Err(BearerRejection::NotAnAdminTool) => {
                        return Err(ApiError::Forbidden(
                            "Only tool clients with the admin role may call the management API."
                                .into(),
                        ));
                    }
                    Err(BearerRejection::Internal(detail)) => {
                        return Err(ApiError::Internal(detail));
                    }
                }
            }
            None => {
                let session = tower_sessions::Session::from_request_parts(parts, state)
                    .await
                    .map_err(|(_, m)| ApiError::Internal(m.to_string()))?;
                app::auth::principal(&session, &state.db)
                    .await
                    .map_err(|e| ApiError::Internal(e.to_string()))?
                    .ok_or_else(|| ApiError::Unauthorized {
                        bearer_error: "",
                        message: "Sign in, or send a tool client's access token.".into(),
                    })?
            }
        };
        Ok(Caller { principal, ip })
    }
}

/// A JSON body read strictly: the right content type, well-formed (else 400), the right
/// shape with no unknown fields (else 422).
pub struct JsonBody<T>(T);

impl<T: DeserializeOwned> JsonBody<T> {
    fn parse(headers: &HeaderMap, bytes: &Bytes) -> Result<T, ApiError> {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::BadRequest(
                "Send a JSON body with Content-Type: application/json.".into(),
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::BadRequest(format!("The body is not valid JSON: {e}.")))?;
        // serde would also read a struct from an array; every body here is an object.
        if !value.is_object() {
            return Err(ApiError::Unprocessable {
                field: None,
                message: "The body must be a JSON object.".into(),
            });
        }
        serde_json::from_value(value).map_err(|e| ApiError::Unprocessable {
            field: None,
            message: format!("The body does not have the expected shape: {e}."),
        })
    }
}

impl<T: DeserializeOwned> axum::extract::FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, ApiError> {
        let (headers, bytes) = headers_and_body(req, state).await?;
        Self::parse(&headers, &bytes).map(JsonBody)
    }
}

/// The request's headers and its whole body, within [`super::middleware::MAX_BODY_BYTES`].
async fn headers_and_body(
    req: axum::extract::Request,
    state: &AppState,
) -> Result<(HeaderMap, Bytes), ApiError> {
    let headers = req.headers().clone();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: super::middleware::MAX_BODY_BYTES,
        })?;
    Ok((headers, bytes))
}

/// A JSON body every field of which may be left out, so no body at all means `{}`: adding
/// or refreshing a secret with its defaults needs nothing but the POST.
pub struct OptionalJsonBody<T>(T);

impl<T: DeserializeOwned> axum::extract::FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, ApiError> {
        let (headers, bytes) = headers_and_body(req, state).await?;
        if bytes.is_empty() {
            return serde_json::from_str("{}")
                .map(OptionalJsonBody)
                .map_err(|e| ApiError::Internal(format!("an empty body has no defaults: {e}")));
        }
        JsonBody::parse(&headers, &bytes).map(OptionalJsonBody)
    }
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn parse_rfc3339(field: &str, value: &str) -> Result<i64, ApiError> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| ApiError::Unprocessable {
            field: Some(field.into()),
            message: format!("{field} must be an RFC 3339 time such as 2027-01-31T00:00:00Z."),
        })
}

/// Absent → `None`; `null` → `Some(None)`; a value → `Some(Some(v))`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

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
}

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

#[derive(Debug, Serialize, ToSchema)]
struct Tenant {
    id: String,
    name: String,
    audience: String,
}

impl From<TenantView> for Tenant {
    fn from(t: TenantView) -> Self {
        Tenant {
            id: t.id,
            name: t.name,
            audience: t.audience,
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Scope {
    /// An RFC 6749 scope-token: printable ASCII without spaces, quotes or backslashes.
    #[schema(pattern = r"^[!#-\[\]-~]{1,64}$")]
    name: String,
    #[serde(default)]
    description: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct AuditEvent {
    id: String,
    at: String,
    actor_type: String,
    actor_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct AppPage {
    items: Vec<App>,
    /// Pass as `cursor` for the next page; absent on the last one.
    next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    items: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only events about this app.
    app: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    cursor: Option<String>,
}

fn page_limit(limit: Option<i64>) -> Result<usize, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=100 => Ok(n as usize),
        _ => Err(ApiError::Unprocessable {
            field: Some("limit".into()),
            message: "limit must be between 1 and 100.".into(),
        }),
    }
}

/// Cursors are opaque: the position after the last item of the previous page.
fn decode_cursor(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::BadRequest("The cursor is not one this API gave out.".into()))
}

fn page<T>(items: Vec<T>, start: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = (end < total).then(|| URL_SAFE_NO_PAD.encode(format!("o:{end}")));
    (page, next)
}

// ---- handlers ----

/// List the tenant's apps (a developer's session: their own), newest first.
#[utoipa::path(get, path = "/api/v1/apps", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = AppPage), ErrorResponses))]
async fn list_apps(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<AppPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = page_limit(q.limit)?;
    let start = decode_cursor(q.cursor.as_deref())?;
    let apps = service::list_apps(&state.db, &caller.principal).await?;
    let (items, next_cursor) = page(apps, start, limit);
    Ok(Json(AppPage {
        items: items.into_iter().map(App::from).collect(),
        next_cursor,
    }))
}

/// Register an app; a confidential app's answer holds its first secret, once.
#[utoipa::path(post, path = "/api/v1/apps", request_body = NewApp, security(("bearer" = [])),
    responses((status = 201, body = CreatedApp), ErrorResponses))]
async fn create_app(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewApp>,
) -> Result<(StatusCode, Json<CreatedApp>), ApiError> {
    let draft = AppDraft {
        name: body.name,
        description: body.description.unwrap_or_default(),
        visibility: body.visibility.map_or(Visibility::Private, Into::into),
        client_type: body
            .client_type
            .map_or(ClientType::Confidential, Into::into),
        tool: body.tool.unwrap_or(false),
        callback_url: body.callback_url,
        scopes: body.scopes.unwrap_or_default(),
        roles: body.roles.unwrap_or_default(),
        token_lifetime_secs: body
            .token_lifetime_secs
            .unwrap_or(app::domain::app_rules::DEFAULT_TOKEN_LIFETIME_SECS),
        audiences: body.audiences.unwrap_or_default(),
    };
    let created = service::create_app(
        &state.db,
        &state.hasher,
        &caller.principal,
        draft,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    let (client_secret, secret_id) = match created.first_secret {
        Some(s) => (Some(s.plaintext), Some(s.secret.id)),
        None => (None, None),
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedApp {
            app: created.app.into(),
            client_secret,
            secret_id,
        }),
    ))
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

/// Change name, description, visibility, callback URL, scopes, roles, audiences, lifetime.
#[utoipa::path(patch, path = "/api/v1/apps/{client_id}", params(("client_id" = String, Path)),
    request_body = AppPatch, security(("bearer" = [])),
    responses((status = 200, body = App), ErrorResponses))]
async fn update_app(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client_id): ApiPath<String>,
    JsonBody(patch): JsonBody<AppPatch>,
) -> Result<Json<App>, ApiError> {
    let current = service::get_app(&state.db, &caller.principal, &client_id).await?;
    let draft = AppDraft {
        name: patch.name.unwrap_or(current.name),
        description: patch.description.unwrap_or(current.description),
        visibility: patch.visibility.map_or(current.visibility, Into::into),
        client_type: current.client_type,
        tool: current.tool,
        callback_url: patch.callback_url.unwrap_or(current.callback_url),
        scopes: patch.scopes.unwrap_or(current.scopes),
        roles: patch.roles.unwrap_or(current.roles),
        token_lifetime_secs: patch
            .token_lifetime_secs
            .unwrap_or(current.token_lifetime_secs),
        audiences: patch.audiences.unwrap_or(current.audiences),
    };
    let updated = service::update_app(
        &state.db,
        &caller.principal,
        &client_id,
        draft,
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

fn created_secret(s: app::model::apps::NewSecret) -> CreatedSecret {
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

/// Audit events, newest first; admins see the tenant's, anyone an app they manage.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), ErrorResponses))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = page_limit(q.limit)?;
    let start = decode_cursor(q.cursor.as_deref())?;
    let by = &caller.principal;
    // Read enough rows to serve the page; the store keeps newest first.
    let wanted = (start + limit + 1) as i64;
    let rows = match q.app.as_deref().filter(|a| !a.is_empty()) {
        Some(client_id) => {
            // Admins may read the history of a deleted app of their tenant too; others only
            // of apps they manage now. Another tenant's app is 404 either way.
            let rows = audit::list_for_target(&state.db, &by.tenant_id, client_id, wanted)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            if rows.is_empty() || by.require_admin().is_err() {
                service::get_app(&state.db, by, client_id).await?;
            }
            Ok(rows)
        }
        None => {
            by.require_admin()?;
            audit::list_for_tenant(&state.db, &by.tenant_id, wanted).await
        }
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (rows, next_cursor) = page(rows, start, limit);
    Ok(Json(AuditPage {
        items: rows
            .into_iter()
            .map(|e| AuditEvent {
                id: e.id,
                at: rfc3339(e.created_at),
                actor_type: e.actor_type,
                actor_id: e.actor_id,
                action: e.action,
                target_type: e.target_type,
                target_id: e.target_id,
                ip: e.ip,
            })
            .collect(),
        next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/tenant", security(("bearer" = [])),
    responses((status = 200, body = Tenant), ErrorResponses))]
async fn get_tenant(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Tenant>, ApiError> {
    Ok(Json(
        tenant_service::get_tenant(&state.db, &state.issuer, &caller.principal)
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
    let current = tenant_service::get_tenant(&state.db, &state.issuer, &caller.principal).await?;
    let name = patch.name.unwrap_or(current.name);
    let audience = match patch.audience {
        None if current.audience_is_default => String::new(),
        None => current.audience,
        Some(audience) => audience.unwrap_or_default(),
    };
    let updated = tenant_service::update_tenant(
        &state.db,
        &state.issuer,
        &caller.principal,
        &name,
        &audience,
        caller.ip.as_deref(),
        unix_now(),
    )
    .await?;
    Ok(Json(updated.into()))
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

#[derive(OpenApi)]
#[openapi(
    info(title = "Keyport management API", description = "Apps, secrets, the tenant, its scope catalogue and audit log."),
    paths(list_apps, create_app, get_app, update_app, delete_app, list_secrets, add_secret,
        refresh_secret, delete_secret, list_audit, get_tenant, update_tenant, list_scopes,
        add_scope, delete_scope),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// `GET /api/v1/openapi.json`.
async fn openapi() -> Response {
    Json(ApiDoc::openapi()).into_response()
}
