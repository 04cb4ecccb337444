//! Reading an OAuth request: a strictly parsed form body of bounded size, the raw
//! `Authorization` header and the caller's address.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, OptionalFromRequestParts, Path, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use app::{domain::oauth::FormParams, services::oauth::TokenRequest};

use super::error::{OAuthResponseError, error_body};

/// Token requests are a few hundred bytes; anything near this is not one.
pub const MAX_FORM_BYTES: usize = 4 * 1024;

/// Whether the body says it is `application/x-www-form-urlencoded`.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body: the right content type, at most [`MAX_FORM_BYTES`], strictly parsed.
async fn read_form(headers: &HeaderMap, body: Body) -> Result<FormParams, Response> {
    if !is_form(headers) {
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
pub(super) enum BodyError {
    /// Over [`MAX_FORM_BYTES`]: answered with 413.
    TooLarge,
    /// The connection failed mid-body.
    Unreadable,
}

/// The whole body, refusing it once it passes [`MAX_FORM_BYTES`].
pub(super) async fn read_limited(body: Body) -> Result<Bytes, BodyError> {
    match Limited::new(body, MAX_FORM_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// What every form-posting OAuth endpoint reads: the strictly parsed form, the raw
/// `Authorization` header, the caller's address and the tenant whose issuer's path was
/// called. A malformed form is answered here.
pub struct OAuthForm {
    form: FormParams,
    authorization: Option<HeaderValue>,
    ip: String,
    tenant: Option<String>,
}

impl OAuthForm {
    /// The request as the OAuth service takes it.
    pub(super) fn request(&self) -> TokenRequest<'_> {
        TokenRequest {
            authorization: self.authorization.as_ref().map(HeaderValue::as_bytes),
            form: &self.form,
            ip: Some(&self.ip),
            tenant: self.tenant.as_deref(),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let ip = app::auth::client_address_of(req.extensions()).unwrap_or_default();
        let (mut parts, body) = req.into_parts();
        // `/t/{tenant}/oauth/…`: a String path parameter cannot fail to deserialise.
        let tenant =
            <Path<String> as OptionalFromRequestParts<S>>::from_request_parts(&mut parts, state)
                .await
                .ok()
                .flatten()
                .map(|Path(tenant)| tenant);
        let form = read_form(&parts.headers, body).await?;
        Ok(OAuthForm {
            form,
            authorization: parts.headers.get(header::AUTHORIZATION).cloned(),
            ip,
            tenant,
        })
    }
}
