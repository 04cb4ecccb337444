use leptos::prelude::*;

use crate::{error::AppError, model::status::StatusReport};

/// What the server and its database say about themselves right now.
#[server]
pub async fn get_status() -> Result<StatusReport, AppError> {
    let state = crate::state::app_state()?;
    let health = crate::services::health::check_database(&state.db).await;
    Ok(StatusReport {
        version: env!("CARGO_PKG_VERSION").to_string(),
        database: health.engine.as_str().to_string(),
        database_ready: health.ready,
        database_latency_ms: health.latency.as_secs_f64() * 1000.0,
    })
}
