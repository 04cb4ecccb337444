//! Why an OAuth request failed, before the HTTP layer picks its status and body.

use crate::{
    domain::{jwt, oauth::OAuthError},
    store::StoreError,
};

/// Why a token, introspection or revocation request failed.
#[derive(Debug)]
pub enum TokenError {
    OAuth(OAuthError),
    /// Too many failed authentications; try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
    Internal(String),
}

impl From<OAuthError> for TokenError {
    fn from(e: OAuthError) -> Self {
        TokenError::OAuth(e)
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Internal(e.to_string())
    }
}

impl From<jwt::KeyError> for TokenError {
    fn from(e: jwt::KeyError) -> Self {
        TokenError::Internal(e.to_string())
    }
}
