//! Shapes shared by the services, the server functions, the REST API and the pages: views and
//! enums, with no logic beyond parsing and naming their values. They sit below every layer that
//! uses them, so no service depends on a server-function module for a type.

pub mod accounts;
pub mod apps;
pub mod assets;
pub mod audit;
pub mod consent;
pub mod invitations;
pub mod keys;
pub mod status;
pub mod tenant;
