//! User passwords (never client secrets, which are high-entropy and use a fast keyed hash).
//! The policy follows NIST SP 800-63B: a minimum length, no composition rules, and a list of
//! passwords known to be common.

use super::FieldError;
use super::account::Email;

pub const MIN_LENGTH: usize = 8;
/// argon2 takes any length, but hashing megabytes would be a cheap denial of service.
pub const MAX_LENGTH: usize = 256;

static COMMON: &str = include_str!("common_passwords.txt");

fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    COMMON
        .lines()
        .filter(|line| !line.starts_with('#'))
        .any(|common| common == lowered)
}

/// Checks a password someone chose. `email` lets us refuse the address itself.
pub fn check_new_password(password: &str, email: Option<&Email>) -> Result<(), FieldError> {
    let too = |message: String| FieldError::new("password", message);
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(too(format!("Use at least {MIN_LENGTH} characters.")));
    }
    if length > MAX_LENGTH {
        return Err(too(format!("Use at most {MAX_LENGTH} characters.")));
    }
    if is_common(password) {
        return Err(too(
            "That password is one of the most common ones. Choose another.".into(),
        ));
    }
    let mut chars = password.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(too(
            "A single repeated character is too easy to guess.".into()
        ));
    }
    if let Some(email) = email {
        let lowered = password.to_lowercase();
        if lowered == email.normalized() || lowered == email.local_part() {
            return Err(too("Your password cannot be your email address.".into()));
        }
    }
    Ok(())
}

#[cfg(feature = "ssr")]
pub use hashing::*;

#[cfg(feature = "ssr")]
mod hashing {
    use std::sync::OnceLock;

    use argon2::{
        Algorithm, Argon2, Params, Version,
        password_hash::{
            PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
        },
    };

    /// OWASP's argon2id baseline: 19 MiB, two passes, one lane.
    fn argon2() -> Argon2<'static> {
        #[allow(clippy::expect_used)] // constant parameters, checked by the tests
        let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). CPU-heavy: call off the async runtime.
    pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
        let salt = SaltString::generate(&mut OsRng);
        Ok(argon2()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    /// Whether `password` matches `phc`. CPU-heavy: call off the async runtime.
    pub fn verify_password(password: &str, phc: &str) -> bool {
        match PasswordHash::new(phc) {
            Ok(parsed) => argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Verifying against this when the email is unknown makes "no such user" cost as much as
    /// "wrong password", so response times do not reveal who has an account.
    pub fn dummy_hash() -> &'static str {
        static DUMMY: OnceLock<String> = OnceLock::new();
        DUMMY.get_or_init(|| {
            hash_password("keyport-dummy-password-for-timing")
                .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$invalid".to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert!(check_new_password("Tr0ub4d", None).is_err());
        assert!(check_new_password("correct horse", None).is_ok());
        assert!(check_new_password(&"ab".repeat(129), None).is_err());
        assert!(
            check_new_password("ééééééé", None).is_err(),
            "counts characters"
        );
    }

    #[test]
    fn common_and_trivial_passwords_are_refused() {
        for bad in [
            "password",
            "PASSWORD1",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "aaaaaaaaaa",
        ] {
            let err = check_new_password(bad, None).unwrap_err();
            assert_eq!(err.field, "password");
        }
    }

    #[test]
    fn the_email_is_not_a_password() {
        let email = Email::parse("longname@example.com").unwrap();
        assert!(check_new_password("LongName@example.com", Some(&email)).is_err());
        assert!(check_new_password("longname", Some(&email)).is_err());
        assert!(check_new_password("another long phrase", Some(&email)).is_ok());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn hashes_are_argon2id_with_our_parameters_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a phc string"));
        assert_ne!(
            phc,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
        assert!(!verify_password("x", dummy_hash()));
    }
}
