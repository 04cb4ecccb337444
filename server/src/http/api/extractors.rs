//! What the management API's handlers take from a request: the caller, path segments and JSON
//! bodies, each refused in the API's error shape rather than axum's plain text.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;

use app::{
    services::{accounts::Principal, oauth::BearerRejection},
    state::AppState,
};

use crate::http::{error::ApiError, middleware::MAX_BODY_BYTES};

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

/// `Query`, answering parameters it cannot read (`limit=abc`) in the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::BadRequest(rejection.body_text())),
        }
    }
}

/// Who is calling, with the address for audit events.
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = app::auth::client_address_of(&parts.extensions);
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
pub struct JsonBody<T>(pub T);

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

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (headers, bytes) = headers_and_body(req, state).await?;
        Self::parse(&headers, &bytes).map(JsonBody)
    }
}

/// The request's headers and its whole body, within [`MAX_BODY_BYTES`].
async fn headers_and_body(req: Request, state: &AppState) -> Result<(HeaderMap, Bytes), ApiError> {
    let headers = req.headers().clone();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        })?;
    Ok((headers, bytes))
}

/// A JSON body every field of which may be left out, so no body at all means `{}`: adding
/// or refreshing a secret with its defaults needs nothing but the POST.
pub struct OptionalJsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (headers, bytes) = headers_and_body(req, state).await?;
        if bytes.is_empty() {
            return serde_json::from_str("{}")
                .map(OptionalJsonBody)
                .map_err(|e| ApiError::Internal(format!("an empty body has no defaults: {e}")));
        }
        JsonBody::parse(&headers, &bytes).map(OptionalJsonBody)
    }
}
