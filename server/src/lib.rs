//! The `keyport` binary's library half: configuration, HTTP wiring and start-up, kept out of
//! `main.rs` so the integration tests can start the very same application.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod http;
pub mod master_key;
pub mod startup;
pub mod telemetry;
