//! A tenant's settings, scopes and roles, as Settings shows them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// The audience tokens get by default: the one an admin set, or the derived one.
    pub audience: String,
    pub audience_is_default: bool,
    /// The `iss` of the tenant's tokens, and where its discovery document is: what a
    /// resource server is configured with.
    pub issuer: String,
    pub discovery_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeView {
    pub name: String,
    pub description: String,
}

/// An entry of the tenant's role catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleView {
    pub name: String,
    pub description: String,
}
