//! Minting an access token (RFC 9068 JWT) for a client every grant has already checked:
//! the scopes and audience it may have, signed by the key that signs now.

use super::{OAuthService, TokenError, clients::CachedClient};
use crate::{
    domain::oauth::{self, AccessClaims, FormParams},
    store::new_id,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
    /// The code and refresh grants' refresh token (`kpr_…`).
    pub refresh_token: Option<String>,
    /// With scope `openid`: the OpenID Connect ID token.
    pub id_token: Option<String>,
}

impl OAuthService {
    /// Signs an access token for `client`, with the `scope`, `audience` or `resource` the
    /// request asked for, within what the client is allowed.
    pub(super) fn issue_access_token(
        &self,
        client: &CachedClient,
        form: &FormParams,
        now: i64,
    ) -> Result<IssuedToken, TokenError> {
        let scope = oauth::grant_scopes(form.get("scope"), &client.scopes)?;
        let audience = oauth::choose_audience(
            form.get("audience"),
            form.get("resource"),
            &client.default_audience,
            &client.audiences,
        )?;
        let claims = AccessClaims {
            iss: client.issuer.clone(),
            sub: client.client_id.clone(),
            aud: audience,
            client_id: client.client_id.clone(),
            scope: scope.clone(),
            iat: now,
            exp: now + client.lifetime_secs,
            jti: new_id(),
            tenant: client.tenant_id.clone(),
            roles: client.roles.clone(),
        };
        let keys = self.key_set();
        let signer = keys
            .signer(now)
            .ok_or_else(|| TokenError::Internal("no signing key".into()))?;
        Ok(IssuedToken {
            access_token: signer.sign(&claims)?,
            expires_in: client.lifetime_secs,
            scope,
            refresh_token: None,
            id_token: None,
        })
    }
}
