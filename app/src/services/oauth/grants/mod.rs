//! The token endpoint (RFC 6749 §3.2): it reads `grant_type` and hands the request to the one
//! grant module that handles it. A grant is added by writing its module and listing it in
//! [`Grant::REGISTERED`]; discovery metadata reads the same list, so it never claims a grant
//! that does not work or misses one that does.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use std::{sync::Arc, time::Instant};

use super::{IssuedToken, OAuthService, TokenError, clients::CachedClient};
use crate::{
    domain::{
        credentials,
        grant_types::GrantType,
        oauth::{self, ErrorCode, FormParams, OAuthError},
    },
    services::metrics::{AuthFailure, TokenOutcome},
};

/// A client-authenticated request to the token, introspection or revocation endpoint, as
/// the HTTP layer hands it over.
pub struct TokenRequest<'a> {
    /// The raw `Authorization` header, if any.
    pub authorization: Option<&'a [u8]>,
    pub form: &'a FormParams,
    pub ip: Option<&'a str>,
    /// The tenant whose issuer's endpoint was called (`{public URL}/t/{tenant}/oauth/…`);
    /// `None` at the un-prefixed paths, where the client id alone names the tenant.
    pub tenant: Option<&'a str>,
}

/// A grant type the token endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.1 with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 §6, rotated on every use (RFC 9700 §4.14).
    RefreshToken,
}

impl Grant {
    /// Every grant this server handles, in the order discovery lists them.
    pub const REGISTERED: &'static [Grant] = &[
        Grant::AuthorizationCode,
        Grant::RefreshToken,
        Grant::ClientCredentials,
    ];

    /// The `grant_type` value (RFC 6749, or the URN of the grant's own RFC).
    pub fn as_str(self) -> &'static str {
        self.grant_type().as_str()
    }

    /// The app setting that allows it.
    pub fn grant_type(self) -> GrantType {
        match self {
            Grant::ClientCredentials => GrantType::ClientCredentials,
            Grant::AuthorizationCode => GrantType::AuthorizationCode,
            Grant::RefreshToken => GrantType::RefreshToken,
        }
    }

    /// The `response_type` the authorization endpoint answers for this grant, if it has one
    /// (the authorization-code grant will; a client's own credentials need no browser).
    pub fn response_type(self) -> Option<&'static str> {
        match self {
            Grant::AuthorizationCode => Some("code"),
            Grant::ClientCredentials | Grant::RefreshToken => None,
        }
    }

    /// The `grant_type` values of [`Grant::REGISTERED`].
    fn names() -> Vec<&'static str> {
        Grant::REGISTERED.iter().map(|g| g.as_str()).collect()
    }

    fn parse(grant_type: &str) -> Option<Grant> {
        Grant::REGISTERED
            .iter()
            .copied()
            .find(|g| g.as_str() == grant_type)
    }
}

impl OAuthService {
    /// `POST /oauth/token`, counted by grant and outcome with its latency.
    pub async fn token(&self, request: TokenRequest<'_>) -> Result<IssuedToken, TokenError> {
        let started = Instant::now();
        let grant = request.form.get("grant_type").and_then(Grant::parse);
        let result = self.dispatch(grant, &request).await;
        self.inner
            .metrics
            .token_answered(grant.into(), TokenOutcome::of(&result), started);
        result
    }

    async fn dispatch(
        &self,
        grant: Option<Grant>,
        request: &TokenRequest<'_>,
    ) -> Result<IssuedToken, TokenError> {
        let now = self.now();
        let grant = match (grant, request.form.get("grant_type")) {
            (Some(grant), _) => grant,
            (None, Some(name)) => return Err(unsupported(name).into()),
            (None, None) => {
                return Err(
                    OAuthError::invalid_request("The grant_type parameter is missing.").into(),
                );
            }
        };
        match grant {
            Grant::ClientCredentials => client_credentials::handle(self, request, now).await,
            Grant::AuthorizationCode => authorization_code::handle(self, request, now).await,
            Grant::RefreshToken => refresh_token::handle(self, request, now).await,
        }
    }

    /// The client of a code or refresh request: a confidential client by its secret, a public
    /// client by its id alone (it has no secret; PKCE or the refresh token is its proof).
    pub(super) async fn identify(
        &self,
        request: &TokenRequest<'_>,
        now: i64,
    ) -> Result<Arc<CachedClient>, TokenError> {
        let basic = oauth::parse_basic(request.authorization)
            .map_err(|e| self.auth_refused(AuthFailure::Malformed, e))?;
        let presents_secret = basic.is_some() || request.form.get("client_secret").is_some();
        if presents_secret {
            return self.caller(request, now).await;
        }
        let refused = |reason| self.auth_refused(reason, OAuthError::invalid_client(false));
        let client_id = request
            .form
            .get("client_id")
            .ok_or_else(|| refused(AuthFailure::Missing))?;
        if !credentials::is_well_formed_client_id(client_id) {
            return Err(refused(AuthFailure::Malformed).into());
        }
        let reason = match self.client(client_id).await? {
            None => AuthFailure::UnknownClient,
            // A confidential client must prove itself with its secret.
            Some(client) if client.confidential => AuthFailure::Missing,
            Some(client) if client.disabled => AuthFailure::Disabled,
            Some(client) => match request.tenant {
                Some(tenant) if tenant != client.tenant_id => AuthFailure::WrongIssuer,
                _ => return Ok(client),
            },
        };
        Err(refused(reason).into())
    }

    /// The `grant_type` values the token endpoint answers, for discovery metadata.
    pub fn grant_types_supported(&self) -> Vec<&'static str> {
        Grant::names()
    }

    /// The `response_type` values of the registered grants, for discovery metadata.
    pub fn response_types_supported(&self) -> Vec<&'static str> {
        Grant::REGISTERED
            .iter()
            .filter_map(|g| g.response_type())
            .collect()
    }
}

/// `unauthorized_client` unless the app is allowed `grant` (SPEC §3a).
pub(super) fn require_grant(client: &CachedClient, grant: GrantType) -> Result<(), OAuthError> {
    if client.may_use(grant) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "This app may not use the {} grant; an admin or its owner can allow it on the \
                 app's OAuth & access scopes tab.",
                grant.as_str()
            ),
        ))
    }
}

/// `invalid_grant` (RFC 6749 §5.2): the code or refresh token will not do.
pub(super) fn invalid_grant(description: &str) -> TokenError {
    OAuthError::new(ErrorCode::InvalidGrant, description).into()
}

fn unsupported(name: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        format!(
            "The grant type {name} is not supported; use {}.",
            Grant::names().join(" or ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_grant_is_found_by_its_name_and_nothing_else_is() {
        for grant in Grant::REGISTERED {
            assert_eq!(Grant::parse(grant.as_str()), Some(*grant));
        }
        assert_eq!(Grant::parse("password"), None);
        assert_eq!(Grant::parse("CLIENT_CREDENTIALS"), None);
    }

    #[test]
    fn an_unsupported_grant_names_the_ones_that_work() {
        let error = unsupported("password");
        assert_eq!(error.code, ErrorCode::UnsupportedGrantType);
        assert_eq!(
            error.description,
            "The grant type password is not supported; use authorization_code or refresh_token \
             or client_credentials."
        );
    }
}

#[cfg(test)]
mod person_edges_tests;
#[cfg(test)]
mod refresh_concurrency_tests;
#[cfg(test)]
mod user_flow_limits_tests;
#[cfg(test)]
mod user_flow_tests;
