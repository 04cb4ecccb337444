//! Use cases, shared by the portal's server functions and the `server` crate's endpoints.

pub mod accounts;
pub mod apps;
pub mod attempts;
#[cfg(test)]
mod attempts_tests;
pub mod audit;
pub mod backup;
mod catalogue;
pub mod connected_apps;
mod error;
pub mod health;
pub mod invitations;
pub mod key_rotation;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod roles;
pub mod sealing;
pub mod tenant;
#[cfg(test)]
mod testkit;

pub use error::ServiceError;
