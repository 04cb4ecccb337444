//! The server's own health, as the status check shows it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub version: String,
    pub database: String,
    pub database_ready: bool,
    pub database_latency_ms: f64,
}
