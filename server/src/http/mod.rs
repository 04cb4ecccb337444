//! The HTTP layer: routing, middleware and the JSON endpoints, thin over `app::services`.

pub mod api;
pub mod assets;
pub mod client_address;
pub mod error;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod oauth;
