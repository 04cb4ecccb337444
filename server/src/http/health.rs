//! Probes for orchestrators: `/healthz` says the process runs, `/readyz` that it can serve.

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use app::{services::health::check_database, state::AppState};

use super::error::ApiError;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let health = check_database(&state.db).await;
    if !health.ready {
        return Err(ApiError::Unavailable("the database does not answer"));
    }
    Ok((
        StatusCode::OK,
        Json(json!({
            "status": "ready",
            "database": health.engine.as_str(),
            "database_latency_ms": health.latency.as_secs_f64() * 1000.0,
        })),
    ))
}
