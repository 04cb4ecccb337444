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

#[cfg(test)]
mod tests {
    use super::*;

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
