//! Which grants an app may use (SPEC §3a, seed 002's "Grant type" section): the names, the
//! defaults for a new app, and the combinations that make sense.

use super::FieldError;

/// A grant type an app can be allowed, by its `grant_type` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
    DeviceCode,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [
        GrantType::ClientCredentials,
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::DeviceCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    pub fn parse(value: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == value)
    }

    /// How the portal names it.
    pub fn label(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "Client credentials (the app acts for itself)",
            GrantType::AuthorizationCode => "Authorization code (people sign in)",
            GrantType::RefreshToken => "Refresh token (stay signed in)",
            GrantType::DeviceCode => "Device code (CLIs and TVs)",
        }
    }
}

/// The grants a new app gets (SPEC §3a): a confidential app its own credentials, plus the
/// code flow when it has a callback URL; a public app the user-facing grants.
pub fn defaults(confidential: bool, has_callback: bool) -> Vec<GrantType> {
    match (confidential, has_callback) {
        (true, false) => vec![GrantType::ClientCredentials],
        (true, true) => vec![
            GrantType::ClientCredentials,
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
        ],
        (false, _) => vec![
            GrantType::AuthorizationCode,
            GrantType::RefreshToken,
            GrantType::DeviceCode,
        ],
    }
}

/// Parses a stored or submitted space-separated list, sorted and without repeats.
pub fn parse_list(list: &str) -> Result<Vec<GrantType>, FieldError> {
    let mut grants = Vec::new();
    for name in list.split_whitespace() {
        let grant = GrantType::parse(name).ok_or_else(|| {
            FieldError::new("grant_types", format!("{name} is not a grant type."))
        })?;
        grants.push(grant);
    }
    grants.sort();
    grants.dedup();
    Ok(grants)
}

/// The space-separated form, as stored.
pub fn join(grants: &[GrantType]) -> String {
    grants
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The combinations that can work: a public client has no secret for client credentials;
/// the code flow needs a callback URL to send the code to; a refresh token comes only from a
/// grant that signs a person in.
pub fn check(
    grants: &[GrantType],
    confidential: bool,
    has_callback: bool,
) -> Result<(), FieldError> {
    let has = |g| grants.contains(&g);
    let invalid = |m: &str| Err(FieldError::new("grant_types", m.to_string()));
    if !confidential && has(GrantType::ClientCredentials) {
        return invalid("A public app has no secret, so it cannot use client credentials.");
    }
    if has(GrantType::AuthorizationCode) && !has_callback {
        return invalid("The authorization code grant needs a callback URL to send codes to.");
    }
    if has(GrantType::RefreshToken)
        && !has(GrantType::AuthorizationCode)
        && !has(GrantType::DeviceCode)
    {
        return invalid(
            "Refresh tokens come from the authorization code or device grant; allow one of them too.",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use GrantType::*;

    #[test]
    fn defaults_follow_the_client_type_and_callback() {
        assert_eq!(defaults(true, false), [ClientCredentials]);
        assert_eq!(
            defaults(true, true),
            [ClientCredentials, AuthorizationCode, RefreshToken]
        );
        assert_eq!(
            defaults(false, true),
            [AuthorizationCode, RefreshToken, DeviceCode]
        );
        for (confidential, callback) in [(true, false), (true, true), (false, true)] {
            let grants = defaults(confidential, callback);
            assert!(check(&grants, confidential, callback).is_ok());
        }
    }

    #[test]
    fn lists_round_trip_sorted_without_repeats() {
        let grants = parse_list("refresh_token authorization_code refresh_token").unwrap();
        assert_eq!(grants, [AuthorizationCode, RefreshToken]);
        assert_eq!(join(&grants), "authorization_code refresh_token");
        assert_eq!(parse_list("").unwrap(), []);
        assert_eq!(parse_list("password").unwrap_err().field, "grant_types");
        assert!(parse_list("Client_Credentials").is_err(), "names are exact");
    }

    #[test]
    fn combinations_that_cannot_work_are_refused() {
        assert!(check(&[ClientCredentials], false, true).is_err());
        assert!(check(&[AuthorizationCode], true, false).is_err());
        assert!(check(&[RefreshToken, ClientCredentials], true, true).is_err());
        assert!(check(&[DeviceCode, RefreshToken], false, false).is_ok());
        assert!(
            check(&[], true, false).is_ok(),
            "an app may be switched to no grant"
        );
    }
}
