//! `GET/POST /oauth/userinfo` (OpenID Connect Core §5.3) with a bearer token (RFC 6750): in
//! the `Authorization` header (§2.1) or, on POST, as `access_token` in a form body (§2.2).

use axum::{
    Json,
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use app::{
    domain::oauth::FormParams,
    services::oauth::{OAuthService, userinfo::UserinfoError},
};

use super::{
    MAX_FORM_BYTES, NO_STORE,
    error::error_body,
    form::{BodyError, is_form, read_limited},
};

pub async fn userinfo(
    State(oauth): State<OAuthService>,
    tenant: Option<Path<String>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = match presented_token(&method, query.as_deref(), &headers, body).await {
        Ok(Some(token)) => token,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, "Bearer realm=\"keyport\"", None),
        Err(response) => return response,
    };
    let tenant = tenant.map(|Path(t)| t);
    match oauth.userinfo(tenant.as_deref(), &token).await {
        Ok(info) => (NO_STORE, Json(info)).into_response(),
        Err(UserinfoError::InvalidToken) => refused(
            StatusCode::UNAUTHORIZED,
            "Bearer realm=\"keyport\", error=\"invalid_token\"",
            Some((
                "invalid_token",
                "The access token is not a live token of a signed-in person.",
            )),
        ),
        Err(UserinfoError::InsufficientScope) => refused(
            StatusCode::FORBIDDEN,
            "Bearer realm=\"keyport\", error=\"insufficient_scope\", scope=\"openid\"",
            Some((
                "insufficient_scope",
                "The access token was not granted the openid scope.",
            )),
        ),
        Err(UserinfoError::Internal(detail)) => {
            tracing::error!(%detail, "userinfo failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                NO_STORE,
                Json(json!({ "error": "server_error" })),
            )
                .into_response()
        }
    }
}

/// The access token the request presents, in exactly one of the places RFC 6750 allows:
/// `Ok(None)` when there is none, an `invalid_request` answer when there is more than one
/// (§2: "MUST NOT use more than one method") or it is in the URL (§2.3, which Keyport does
/// not accept: URLs end up in logs and histories). A body of another content type, or on GET,
/// is not read.
async fn presented_token(
    method: &Method,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<String>, Response> {
    let in_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let in_body = if *method == Method::POST && is_form(headers) {
        form_token(body).await?
    } else {
        None
    };
    let in_query = query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.split('=').next() == Some("access_token"))
    });
    if in_query {
        return Err(invalid_request(
            "Send the access token in the Authorization header or, on POST, as access_token \
             in a form body; Keyport does not accept it in the URL.",
        ));
    }
    match (in_header, in_body) {
        (Some(_), Some(_)) => Err(invalid_request(
            "Send the access token once: in the Authorization header or in the form body, \
             not both.",
        )),
        (header, body) => Ok(header.or(body)),
    }
}

/// `access_token` of a form body of at most [`MAX_FORM_BYTES`], strictly parsed (a repeated
/// parameter is `invalid_request`).
async fn form_token(body: Body) -> Result<Option<String>, Response> {
    let bytes = read_limited(body).await.map_err(|e| match e {
        BodyError::TooLarge => error_body(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            &format!("The request body is larger than {MAX_FORM_BYTES} bytes."),
        ),
        BodyError::Unreadable => invalid_request("The request body could not be read."),
    })?;
    let form = FormParams::parse(&bytes).map_err(|e| invalid_request(&e.description))?;
    Ok(form.get("access_token").map(str::to_string))
}

/// 400 `invalid_request` (RFC 6750 §3.1), with its challenge.
fn invalid_request(description: &str) -> Response {
    refused(
        StatusCode::BAD_REQUEST,
        "Bearer realm=\"keyport\", error=\"invalid_request\"",
        Some(("invalid_request", description)),
    )
}

fn refused(status: StatusCode, challenge: &'static str, error: Option<(&str, &str)>) -> Response {
    let body = error.map_or_else(
        || json!({ "error": "invalid_token", "error_description": "Send an access token as a Bearer token: in the Authorization header or, on POST, as access_token in a form body." }),
        |(code, description)| json!({ "error": code, "error_description": description }),
    );
    let mut response = (status, NO_STORE, Json(body)).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
