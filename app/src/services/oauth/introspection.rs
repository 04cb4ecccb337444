//! RFC 7662 introspection, and the verification every use of an access token goes through.

use super::{OAuthService, TokenError, TokenRequest};
use crate::{
    domain::{
        issuer, jwt,
        oauth::{AccessClaims, OAuthError},
    },
    store::revoked,
};

impl OAuthService {
    /// Verifies one of this server's access tokens: signature, the issuer of the tenant it
    /// names, expiry, revocation.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Option<AccessClaims>, TokenError> {
        let keys = self.key_set();
        let Ok(claims) = jwt::verify::<AccessClaims>(token, &keys.verifiers) else {
            return Ok(None);
        };
        if claims.iss != issuer::tenant_issuer(&self.inner.public_url, &claims.tenant)
            || claims.exp <= now
        {
            return Ok(None);
        }
        if revoked::is_revoked(&self.inner.db, &claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// RFC 7662: the caller must be an authenticated client of the token's tenant; another
    /// tenant's tokens are inactive to it. A token whose client has since been deleted or
    /// disabled is inactive too: it is checked now, not as it was at issue.
    pub async fn introspect(
        &self,
        request: &TokenRequest<'_>,
    ) -> Result<Option<AccessClaims>, TokenError> {
        let now = self.now();
        let caller = self.caller(request, now).await?;
        let Some(token) = request.form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        let Some(claims) = self.verify(token, now).await? else {
            return Ok(None);
        };
        if claims.tenant != caller.tenant_id {
            return Ok(None);
        }
        let client_live = self
            .client(&claims.client_id)
            .await?
            .is_some_and(|c| !c.disabled && c.tenant_id == claims.tenant);
        Ok(client_live.then_some(claims))
    }
}
