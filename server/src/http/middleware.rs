use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method};

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::error::AppError;

use super::error::ApiError;

/// The largest request body any endpoint accepts. Portal forms and API bodies are small; a
/// bigger body is refused before it is read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One line per request: method, path (never the query, which can carry codes), status, time.
pub async fn log_request(req: Request, next: Next) -> Response {
    if !tracing::enabled!(target: "keyport::http", tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    tracing::info!(
        target: "keyport::http",
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Headers every response carries: no other site may frame it (the portal pages add their
/// full Content-Security-Policy themselves, see `app::csp`), no content sniffing, no
/// referrer to other sites (same-origin posts keep theirs: a form posted without the WASM
/// returns by it to the page it came from), and `no-store` for any document or JSON answer
/// that did not choose its own caching, since those carry sessions' data, secrets handed
/// over once, and tokens.
/// Static assets (CSS, JS, WASM, images) keep whatever their server says.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) && is_dynamic(headers) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A page, a JSON answer or a body-less answer (a redirect, a 204), as opposed to a file.
fn is_dynamic(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let media = content_type.as_bytes().to_ascii_lowercase();
    media.starts_with(b"text/html") || media.starts_with(b"application/json")
}

/// Refuses bodies over [`MAX_BODY_BYTES`]: at once when `Content-Length` says so, otherwise
/// when reading crosses the limit (the handler then fails to read and answers 4xx).
pub async fn limit_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, limited)).await
}

/// Leptos answers every failed server function with 500. Our server functions fail with an
/// [`AppError`], which knows its status: a malformed body is the client's 400, not our 500.
pub async fn server_fn_error_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::Internal("unreadable server function error".into()).into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::TooManyRequests { retry_after_secs } = error {
            parts
                .headers
                .insert(header::RETRY_AFTER, retry_after_secs.into());
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Refuses state-changing requests that a browser made on behalf of another site (CSRF).
/// Browsers say where a request comes from in `Sec-Fetch-Site` and `Origin`; requests that
/// carry neither come from non-browser clients, which cookies do not follow.
pub async fn reject_cross_site(req: Request, next: Next) -> Response {
    if is_safe(req.method()) || is_same_site(req.headers()) {
        return next.run(req).await;
    }
    tracing::warn!(path = %req.uri().path(), "cross-site request refused");
    ApiError::CrossSite.into_response()
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_same_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none": typed in the address bar or a bookmark; never a cross-site page.
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest);
            matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_site_rules() {
        assert!(is_same_site(&headers(&[])), "non-browser client");
        assert!(is_same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(is_same_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(!is_same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(
            !is_same_site(&headers(&[("sec-fetch-site", "same-site")])),
            "a sibling subdomain is not us"
        );
        assert!(is_same_site(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_same_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!is_same_site(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:3000")
        ])));
    }
}
