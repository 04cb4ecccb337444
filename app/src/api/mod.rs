//! Server functions: thin adapters from the portal to the services.

pub mod status;
