//! Role names, the entries of a tenant's role catalogue.

use super::{FieldError, scopes};

/// The built-in role: on a tool client it opens the management API. Every tenant's catalogue
/// has it, and it cannot be removed (see `services::roles::delete_role`).
pub const ADMIN: &str = "admin";

/// As scope names (roles travel in the token's `roles` claim, beside its `scope`): printable
/// ASCII without spaces, quotes or backslashes, 1–64 characters.
pub fn check_role_name(name: &str) -> Result<(), FieldError> {
    let invalid = |m: &str| Err(FieldError::new("name", m.to_string()));
    if name.is_empty() {
        return invalid("Enter a role name, like billing:reader.");
    }
    if name.len() > scopes::MAX_LENGTH {
        return invalid("Role names are at most 64 characters.");
    }
    if scopes::check_scope_name(name).is_err() {
        return invalid("Role names use printable ASCII without spaces, quotes or backslashes.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_scope_names_and_say_role() {
        assert!(check_role_name("billing:reader").is_ok());
        assert!(check_role_name(ADMIN).is_ok());
        let empty = check_role_name("").unwrap_err();
        assert_eq!(empty.message, "Enter a role name, like billing:reader.");
        let spaced = check_role_name("two words").unwrap_err();
        assert_eq!(spaced.field, "name");
        assert!(
            spaced.message.starts_with("Role names"),
            "{}",
            spaced.message
        );
    }
}
