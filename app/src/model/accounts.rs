//! People, their tenants and memberships as the portal shows them. Nothing here holds a secret.

use serde::{Deserialize, Serialize};

use crate::domain::membership::Role;

/// The signed-in person as the portal shows them. Holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub role: Role,
    pub tenants: Vec<TenantChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantChoice {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// What every page needs to know: who is signed in, and whether anyone has signed up yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalContext {
    pub viewer: Option<Viewer>,
    pub first_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub is_you: bool,
}
