//! Rules for an app's settings and its secrets' lifetimes.

use super::FieldError;

pub const MIN_TOKEN_LIFETIME_SECS: i64 = 60;
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 3600;
pub const DEFAULT_TOKEN_LIFETIME_SECS: i64 = 3600;
/// A secret's default life: a year, so forgotten secrets do not live forever.
pub const DEFAULT_SECRET_LIFETIME_SECS: i64 = 365 * 24 * 3600;
/// The longest an old secret may keep working after a refresh.
pub const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

/// An app's name: 1–100 characters, shown as text wherever it appears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    pub fn parse(input: &str) -> Result<AppName, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "Give the app a name."));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new(
                "name",
                "App names are at most 100 characters.",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "App names cannot contain control characters.",
            ));
        }
        Ok(AppName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long access tokens issued to the app live, in seconds.
pub fn check_token_lifetime(secs: i64) -> Result<i64, FieldError> {
    if (MIN_TOKEN_LIFETIME_SECS..=MAX_TOKEN_LIFETIME_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(FieldError::new(
            "token_lifetime_secs",
            format!(
                "Token lifetime must be between {MIN_TOKEN_LIFETIME_SECS} and {MAX_TOKEN_LIFETIME_SECS} seconds."
            ),
        ))
    }
}

/// When a new secret expires: `None` is never; a time must lie in the future.
pub fn check_secret_expiry(expires_at: Option<i64>, now: i64) -> Result<Option<i64>, FieldError> {
    match expires_at {
        Some(at) if at <= now => Err(FieldError::new(
            "expires_at",
            "The expiry must be in the future (or never).",
        )),
        other => Ok(other),
    }
}

/// How long a refreshed-away secret keeps working: 0 (stops at once) up to 7 days.
pub fn check_grace(secs: i64) -> Result<i64, FieldError> {
    if (0..=MAX_GRACE_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(FieldError::new(
            "grace_seconds",
            "The grace period must be between 0 seconds and 7 days.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(AppName::parse("  Billing  ").unwrap().as_str(), "Billing");
        assert_eq!(
            AppName::parse("<img src=x onerror=alert(1)>")
                .unwrap()
                .as_str(),
            "<img src=x onerror=alert(1)>",
            "kept as typed: rendering escapes it"
        );
        assert!(AppName::parse("").is_err());
        assert!(AppName::parse(&"x".repeat(101)).is_err());
        assert!(AppName::parse(&"ü".repeat(100)).is_ok());
    }

    #[test]
    fn lifetimes() {
        assert!(check_token_lifetime(59).is_err());
        assert_eq!(check_token_lifetime(60), Ok(60));
        assert_eq!(check_token_lifetime(3600), Ok(3600));
        assert!(check_token_lifetime(3601).is_err());
    }

    #[test]
    fn expiry_and_grace() {
        assert_eq!(check_secret_expiry(None, 100), Ok(None));
        assert_eq!(check_secret_expiry(Some(101), 100), Ok(Some(101)));
        assert!(check_secret_expiry(Some(100), 100).is_err());
        assert!(check_secret_expiry(Some(5), 100).is_err());
        assert_eq!(check_grace(0), Ok(0));
        assert_eq!(check_grace(MAX_GRACE_SECS), Ok(MAX_GRACE_SECS));
        assert!(check_grace(MAX_GRACE_SECS + 1).is_err());
        assert!(check_grace(-1).is_err());
    }
}
