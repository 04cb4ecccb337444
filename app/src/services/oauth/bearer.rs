//! Bearer tokens at the management API (SPEC §4): which access tokens open it, and for whom.

use super::{OAuthService, TokenError};
use crate::services::accounts::Principal;

pub use crate::domain::issuer::management_audience;

/// Why a bearer token does not open the management API.
#[derive(Debug)]
pub enum BearerRejection {
    /// Not this server's, expired, revoked, for another audience, or its client is gone.
    InvalidToken,
    /// A live token of a client that is not a tool client with the `admin` role.
    NotAnAdminTool,
    Internal(String),
}

impl From<TokenError> for BearerRejection {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Internal(detail) => BearerRejection::Internal(detail),
            _ => BearerRejection::InvalidToken,
        }
    }
}

impl OAuthService {
    /// The principal a bearer token stands for at the management API: a live tool client
    /// with the `admin` role, checked now (not as the token says it was at issue), with a
    /// token issued by this server for the management API, unexpired and not revoked.
    pub async fn management_principal(&self, token: &str) -> Result<Principal, BearerRejection> {
        let claims = self
            .verify(token, self.now())
            .await
            .map_err(BearerRejection::from)?
            .ok_or(BearerRejection::InvalidToken)?;
        // A person's token never opens the management API: it acts for the person at the
        // app, not for the tenant (SPEC §3a).
        if claims.aud != management_audience(&self.inner.public_url)
            || super::introspection::is_user_token(&claims)
        {
            return Err(BearerRejection::InvalidToken);
        }
        let client = self
            .client(&claims.client_id)
            .await
            .map_err(BearerRejection::from)?
            .filter(|c| !c.disabled && c.tenant_id == claims.tenant)
            .ok_or(BearerRejection::InvalidToken)?;
        if !(client.tool && client.roles.iter().any(|r| r == "admin")) {
            return Err(BearerRejection::NotAnAdminTool);
        }
        Ok(Principal::tool_client(&client.client_id, &client.tenant_id))
    }
}
