//! Invitations to join a tenant, as admins and invited people see them.

use serde::{Deserialize, Serialize};

use crate::domain::membership::Role;

/// A pending invitation of the admin's tenant (Settings → Members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: String,
    /// As the admin typed it.
    pub email: String,
    pub role: Role,
    pub invited_at: i64,
    pub expires_at: i64,
}

/// An invitation for the signed-in person's email, which they may accept or decline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationForYou {
    pub id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub role: Role,
    /// The inviting admin's name; `None` when a tool client invited, or the admin is gone.
    pub invited_by: Option<String>,
    pub expires_at: i64,
}
