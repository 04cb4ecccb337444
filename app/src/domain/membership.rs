//! Roles in a tenant and the rules about who may hold them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tenant Administrator: Settings, every app, members, scopes, keys.
    Admin,
    /// Manages the apps they own.
    Developer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Developer => "developer",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "developer" => Some(Role::Developer),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Developer => "Developer",
        }
    }

    /// Settings: members, scopes, audience, keys.
    pub fn can_administer_tenant(self) -> bool {
        self == Role::Admin
    }

    /// A tool client's tokens act for the tenant, and one with the `admin` role opens the
    /// management API as an admin: only those who administer the tenant may create one.
    pub fn can_create_tool_clients(self) -> bool {
        self.can_administer_tenant()
    }
}

/// Why a membership change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipRuleError {
    #[error("A tenant needs at least one admin. Make someone else an admin first.")]
    LastAdmin,
}

/// A change to one member's place in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    SetRole(Role),
    Remove,
}

/// The last admin can be neither demoted nor removed, or nobody could administer the tenant.
pub fn check_member_change(
    current: Role,
    change: MemberChange,
    admins_in_tenant: u64,
) -> Result<(), MembershipRuleError> {
    let loses_admin = current == Role::Admin
        && matches!(
            change,
            MemberChange::Remove | MemberChange::SetRole(Role::Developer)
        );
    if loses_admin && admins_in_tenant <= 1 {
        return Err(MembershipRuleError::LastAdmin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_administer() {
        assert!(Role::Admin.can_administer_tenant());
        assert!(!Role::Developer.can_administer_tenant());
    }

    #[test]
    fn roles_round_trip_and_unknown_is_none() {
        for role in [Role::Admin, Role::Developer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn the_last_admin_stays() {
        use MemberChange::*;
        assert_eq!(
            check_member_change(Role::Admin, Remove, 1),
            Err(MembershipRuleError::LastAdmin)
        );
        assert_eq!(
            check_member_change(Role::Admin, SetRole(Role::Developer), 1),
            Err(MembershipRuleError::LastAdmin)
        );
        assert_eq!(
            check_member_change(Role::Admin, SetRole(Role::Admin), 1),
            Ok(())
        );
        assert_eq!(check_member_change(Role::Admin, Remove, 2), Ok(()));
        assert_eq!(check_member_change(Role::Developer, Remove, 1), Ok(()));
        assert_eq!(
            check_member_change(Role::Developer, SetRole(Role::Admin), 1),
            Ok(())
        );
    }
}
