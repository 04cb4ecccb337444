//! RFC 7662 introspection, and the verification every use of an access token goes through.

use super::{OAuthService, TokenError};
use crate::{
    domain::{
        jwt,
        oauth::{AccessClaims, FormParams, OAuthError},
    },
    store::revoked,
};

impl OAuthService {
    /// Verifies one of this server's access tokens: signature, issuer, expiry, revocation.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Option<AccessClaims>, TokenError> {
        let keys = self.key_set();
        let Ok(claims) = jwt::verify::<AccessClaims>(token, &keys.verifiers) else {
            return Ok(None);
        };
        if claims.iss != self.inner.public_url || claims.exp <= now {
            return Ok(None);
        }
        if revoked::is_revoked(&self.inner.db, &claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(claims))
    }

    /// RFC 7662: the caller must be an authenticated client of the token's tenant; another
    /// tenant's tokens are inactive to it.
    pub async fn introspect(
        &self,
        authorization: Option<&[u8]>,
        form: &FormParams,
        ip: Option<&str>,
    ) -> Result<Option<AccessClaims>, TokenError> {
        let now = self.now();
        let caller = self.caller(authorization, form, ip, now).await?;
        let Some(token) = form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        Ok(self
            .verify(token, now)
            .await?
            .filter(|c| c.tenant == caller.tenant_id))
    }
}
