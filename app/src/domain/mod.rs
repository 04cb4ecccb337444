//! Pure rules of the product, free of web and database concerns, so they are tested alone.
//! Compiled for the browser too, where the same rules check forms before they are sent.

pub mod account;
pub mod app_rules;
pub mod authorize;
pub mod callback;
pub mod credentials;
pub mod grant_types;
pub mod issuer;
#[cfg(feature = "ssr")]
pub mod jwt;
#[cfg(feature = "ssr")]
pub mod key_rotation;
pub mod membership;
pub mod oauth;
pub mod paging;
pub mod password;
#[cfg(feature = "ssr")]
pub mod pkce;
pub mod return_path;
pub mod roles;
pub mod scopes;
#[cfg(feature = "ssr")]
pub mod sealing;
pub mod text;

/// A rule broken by user input, naming the field so the portal can show it beside that field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field,
            message: message.into(),
        }
    }
}
