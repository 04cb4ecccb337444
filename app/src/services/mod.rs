//! Use cases, shared by the portal's server functions and the `server` crate's endpoints.

pub mod accounts;
pub mod apps;
mod error;
pub mod health;

pub use error::ServiceError;
