//! Server functions: thin adapters from the portal to the services.

pub mod apps;
pub mod auth;
pub mod keys;
pub mod members;
pub mod status;
pub mod tenant;
