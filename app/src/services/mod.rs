//! Use cases, shared by the portal's server functions and the `server` crate's endpoints.

pub mod accounts;
pub mod apps;
pub mod audit;
mod error;
pub mod health;
pub mod keys;
pub mod tenant;
pub mod tokens;

pub use error::ServiceError;
