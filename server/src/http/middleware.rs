use std::time::Instant;

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
    }
    Response::from_parts(parts, Body::from(bytes))
}
