//! Scope names, as RFC 6749 §3.3 defines a scope-token.

use super::FieldError;

pub const MAX_LENGTH: usize = 64;

/// Printable ASCII except space, `"` and `\`, 1–64 characters: `orders:read`, `apps.write`.
pub fn check_scope_name(name: &str) -> Result<(), FieldError> {
    let invalid = |m: &str| Err(FieldError::new("name", m.to_string()));
    if name.is_empty() {
        return invalid("Enter a scope name, like orders:read.");
    }
    if name.len() > MAX_LENGTH {
        return invalid("Scope names are at most 64 characters.");
    }
    if !name
        .bytes()
        .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
    {
        return invalid("Scope names use printable ASCII without spaces, quotes or backslashes.");
    }
    Ok(())
}

/// The OpenID Connect scopes mean the same in every tenant (the consent page describes them
/// itself), so no catalogue may define its own `email` or `openid`.
pub fn check_not_reserved(name: &str) -> Result<(), FieldError> {
    if super::authorize::OIDC_SCOPES
        .iter()
        .any(|(reserved, _)| *reserved == name)
    {
        return Err(FieldError::new(
            "name",
            format!(
                "{name} is an OpenID Connect scope, which every app may ask for; choose another name."
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_connect_scopes_are_reserved() {
        for reserved in ["openid", "profile", "email", "offline_access"] {
            assert!(check_not_reserved(reserved).is_err(), "{reserved}");
        }
        assert!(check_not_reserved("emails:send").is_ok());
    }

    #[test]
    fn scope_tokens() {
        for ok in [
            "orders:read",
            "apps.write",
            "a",
            "x!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
        ] {
            assert!(check_scope_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "two words",
            "quo\"te",
            "back\\slash",
            "ünï",
            "tab\t",
            &"x".repeat(65),
        ] {
            assert!(check_scope_name(bad).is_err(), "{bad:?}");
        }
    }
}
