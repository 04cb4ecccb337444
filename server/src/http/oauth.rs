//! The OAuth endpoints (SPEC section 3) as thin adapters over [`TokenService`]: the token
//! endpoint (RFC 6749), introspection (RFC 7662), revocation (RFC 7009), the JWKS, the
//! metadata document (RFC 8414), and the JSON token variant of seed 003.
//!
//! They sit outside the portal's session and cross-site layers: clients authenticate on every
//! request, and a browser app on another origin may legitimately call them.

use std::net::SocketAddr;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{ConnectInfo, FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::{Deserialize, Serialize};
use serde_json::json;

use app::{
    domain::oauth::{ErrorCode, FormParams, OAuthError},
    services::tokens::{TokenError, TokenRequest, TokenService},
};

/// Token requests are a few hundred bytes; anything near this is not one.
pub const MAX_FORM_BYTES: usize = 4 * 1024;

const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

/// The RFC 6749 §5.2 error response, which every OAuth endpoint answers with.
#[derive(Debug)]
pub struct OAuthResponseError(TokenError);

impl From<TokenError> for OAuthResponseError {
    fn from(e: TokenError) -> Self {
        OAuthResponseError(e)
    }
}

impl From<OAuthError> for OAuthResponseError {
    fn from(e: OAuthError) -> Self {
        OAuthResponseError(TokenError::OAuth(e))
    }
}

fn error_body(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        NO_STORE,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

impl IntoResponse for OAuthResponseError {
    fn into_response(self) -> Response {
        match self.0 {
            TokenError::OAuth(e) => {
                let status = match e.code {
                    ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                let mut response = error_body(status, e.code.as_str(), &e.description);
                if e.basic_attempted && status == StatusCode::UNAUTHORIZED {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"keyport\""),
                    );
                }
                response
            }
            TokenError::Throttled { retry_after } => {
                let mut response = error_body(
                    StatusCode::TOO_MANY_REQUESTS,
                    "temporarily_unavailable",
                    &format!(
                        "Too many failed client authentications; try again in {retry_after} seconds."
                    ),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            TokenError::Internal(detail) => {
                tracing::error!(%detail, "token service failure");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Something went wrong on our side.",
                )
            }
        }
    }
}

/// Reads a form body: the right content type, at most [`MAX_FORM_BYTES`], strictly parsed.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<FormParams, Response> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(error_body(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the parameters as application/x-www-form-urlencoded.",
        ));
    }
    let bytes = read_limited(body).await.map_err(|e| match e {
        BodyError::TooLarge => error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            &format!("The request body is larger than {MAX_FORM_BYTES} bytes."),
        ),
        BodyError::Unreadable => error_body(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body could not be read.",
        ),
    })?;
    FormParams::parse(&bytes).map_err(|e| OAuthResponseError::from(e).into_response())
}

/// Why a request body was not read.
enum BodyError {
    /// Over [`MAX_FORM_BYTES`]: answered with 413.
    TooLarge,
    /// The connection failed mid-body.
    Unreadable,
}

/// The whole body, refusing it once it passes [`MAX_FORM_BYTES`].
async fn read_limited(body: Body) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_FORM_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// What every form-posting OAuth endpoint reads: the strictly parsed form, the raw
/// `Authorization` header and the caller's address. A malformed form is answered here.
pub struct OAuthForm {
    form: FormParams,
    authorization: Option<HeaderValue>,
    ip: String,
}

impl OAuthForm {
    fn authorization(&self) -> Option<&[u8]> {
        self.authorization.as_ref().map(HeaderValue::as_bytes)
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Response> {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
            .unwrap_or_default();
        let (parts, body) = req.into_parts();
        let form = read_form(&parts.headers, body).await?;
        Ok(OAuthForm {
            form,
            authorization: parts.headers.get(header::AUTHORIZATION).cloned(),
            ip,
        })
    }
}

/// RFC 6749 §5.1.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "str::is_empty")]
    scope: &'a str,
}

/// `POST /oauth/token`.
pub async fn token(State(tokens): State<TokenService>, request: OAuthForm) -> Response {
    let token_request = TokenRequest {
        authorization: request.authorization(),
        form: &request.form,
        ip: Some(&request.ip),
    };
    match tokens.token(token_request).await {
        Ok(issued) => (
            NO_STORE,
            Json(TokenResponse {
                access_token: &issued.access_token,
                token_type: "Bearer",
                expires_in: issued.expires_in,
                scope: &issued.scope,
            }),
        )
            .into_response(),
        Err(e) => OAuthResponseError(e).into_response(),
    }
}

/// `POST /oauth/introspect` (RFC 7662).
pub async fn introspect(State(tokens): State<TokenService>, request: OAuthForm) -> Response {
    let answer = tokens
        .introspect(request.authorization(), &request.form, Some(&request.ip))
        .await;
    match answer {
        Ok(Some(claims)) => {
            let mut body = json!({
                "active": true,
                "token_type": "Bearer",
                "client_id": claims.client_id,
                "scope": claims.scope,
                "sub": claims.sub,
                "aud": claims.aud,
                "iss": claims.iss,
                "exp": claims.exp,
                "iat": claims.iat,
                "jti": claims.jti,
                "tenant": claims.tenant,
            });
            if !claims.roles.is_empty() {
                body["roles"] = json!(claims.roles);
            }
            (NO_STORE, Json(body)).into_response()
        }
        Ok(None) => (NO_STORE, Json(json!({ "active": false }))).into_response(),
        Err(e) => OAuthResponseError(e).into_response(),
    }
}

/// `POST /oauth/revoke` (RFC 7009).
pub async fn revoke(State(tokens): State<TokenService>, request: OAuthForm) -> Response {
    let answer = tokens
        .revoke(request.authorization(), &request.form, Some(&request.ip))
        .await;
    match answer {
        Ok(()) => (StatusCode::OK, NO_STORE).into_response(),
        Err(e) => OAuthResponseError(e).into_response(),
    }
}

/// Any method but POST on an OAuth endpoint.
pub async fn method_not_allowed() -> Response {
    let mut response = error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "This endpoint takes POST requests only.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// `GET /.well-known/jwks.json`.
pub async fn jwks(State(tokens): State<TokenService>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            // Short: a rotated key is published well before it signs (keys rotate --lead-secs).
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        tokens.jwks(),
    )
        .into_response()
}

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`:
/// what works today, nothing more.
pub async fn metadata(State(tokens): State<TokenService>) -> Response {
    let issuer = tokens.issuer();
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({
            "issuer": issuer,
            "token_endpoint": format!("{issuer}/oauth/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "grant_types_supported": ["client_credentials"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            // Scopes belong to each tenant's catalogue; none are global.
            "scopes_supported": [],
            "token_endpoint_auth_signing_alg_values_supported": [],
            "access_token_signing_alg_values_supported": [tokens.algorithm().as_str()],
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonTokenRequest {
    tenant_id: String,
    application_id: String,
    application_secret: String,
}

/// Seed 003's error shape, for every answer of the JSON variant: `error` is the status's
/// reason phrase (`"Unauthorized"`), `message` a sentence.
fn json_error(status: StatusCode, message: &str) -> Response {
    let error = status.canonical_reason().unwrap_or("Error");
    (
        status,
        NO_STORE,
        Json(json!({ "error": error, "message": message })),
    )
        .into_response()
}

/// `POST /v1/applications/token` (seed 003).
pub async fn json_token(
    State(tokens): State<TokenService>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Body,
) -> Response {
    let bytes = match read_limited(body).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than {MAX_FORM_BYTES} bytes."),
            );
        }
        Err(BodyError::Unreadable) => {
            return json_error(StatusCode::BAD_REQUEST, "The body could not be read.");
        }
    };
    let Ok(request) = serde_json::from_slice::<JsonTokenRequest>(&bytes) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "Send a JSON object with tenantId, applicationId and applicationSecret.",
        );
    };
    let ip = peer.ip().to_string();
    let issued = tokens
        .token_for(
            &request.tenant_id,
            &request.application_id,
            &request.application_secret,
            Some(&ip),
        )
        .await;
    match issued {
        Ok(issued) => (
            NO_STORE,
            Json(json!({
                "accessToken": issued.access_token,
                "tokenType": "Bearer",
                "expiresIn": issued.expires_in,
                "scope": issued.scope,
            })),
        )
            .into_response(),
        Err(TokenError::OAuth(e)) if e.code == ErrorCode::InvalidClient => json_error(
            StatusCode::UNAUTHORIZED,
            "The tenant id, application id or application secret is not valid.",
        ),
        Err(TokenError::OAuth(e)) => json_error(StatusCode::BAD_REQUEST, &e.description),
        Err(TokenError::Throttled { retry_after }) => {
            let mut response = json_error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too many failed authentications; try again in {retry_after} seconds."),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
        Err(TokenError::Internal(detail)) => {
            tracing::error!(%detail, "token service failure");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            )
        }
    }
}

/// Any method but POST on the JSON variant.
pub async fn json_method_not_allowed() -> Response {
    let mut response = json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "This endpoint takes POST requests only.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}
