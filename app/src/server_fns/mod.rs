//! Server functions: the portal's calls to the server, each a thin adapter over a service.

pub mod apps;
pub mod auth;
pub mod consent;
pub mod invitations;
pub mod keys;
pub mod members;
pub mod roles;
pub mod status;
pub mod tenant;
