//! Who a person is: their email (unique, case-insensitive) and display name.

use super::FieldError;

/// A syntactically plausible email address. Delivery is not checked: Keyport sends no mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    as_typed: String,
    normalized: String,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, FieldError> {
        let as_typed = input.trim();
        let invalid = |why: &str| FieldError::new("email", why.to_string());
        if as_typed.is_empty() {
            return Err(invalid("Enter your email address."));
        }
        if as_typed.chars().count() > 254 {
            return Err(invalid("That email address is too long."));
        }
        let Some((local, domain)) = as_typed.rsplit_once('@') else {
            return Err(invalid(
                "An email address needs an @, like name@example.com.",
            ));
        };
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(invalid("Enter an email address like name@example.com."));
        }
        if as_typed
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid("An email address cannot contain spaces."));
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err(invalid("The part after the @ is not a valid domain."));
        }
        Ok(Email {
            as_typed: as_typed.to_string(),
            normalized: as_typed.to_lowercase(),
        })
    }

    /// As the person typed it (trimmed), for display.
    pub fn as_str(&self) -> &str {
        &self.as_typed
    }

    /// The form two addresses are compared in: `Ann@Example.com` and `ann@example.com` are one.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    pub fn local_part(&self) -> &str {
        self.normalized
            .rsplit_once('@')
            .map(|(local, _)| local)
            .unwrap_or_default()
    }
}

/// What the portal calls a person; 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(input: &str) -> Result<DisplayName, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "Enter your name."));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", "Names are at most 100 characters."));
        }
        super::text::check_line("name", "Names", name)?;
        Ok(DisplayName(name.to_string()))
    }

    /// The name a sign-up without one gets: the email's local part.
    pub fn from_email(email: &Email) -> DisplayName {
        DisplayName(
            email
                .as_str()
                .rsplit_once('@')
                .map(|(l, _)| l)
                .unwrap_or("user")
                .to_string(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_case_insensitively_and_keep_their_spelling() {
        let email = Email::parse("  Ann.Lee@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ann.Lee@Example.COM");
        assert_eq!(email.normalized(), "ann.lee@example.com");
        assert_eq!(email.local_part(), "ann.lee");
    }

    #[test]
    fn malformed_emails_are_refused_with_a_reason() {
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a b@example.com",
            "ann@.example",
            "ann@ex..com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad:?}");
            assert!(!err.message.is_empty());
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(
            DisplayName::parse("  Ann Lee ").unwrap().as_str(),
            "Ann Lee"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(
            DisplayName::parse(&"é".repeat(100)).is_ok(),
            "counts characters, not bytes"
        );
        assert!(DisplayName::parse("a\u{7}b").is_err());
        let email = Email::parse("ann@example.com").unwrap();
        assert_eq!(DisplayName::from_email(&email).as_str(), "ann");
    }
}
