//! RFC 7662 introspection, and the verification every use of an access token goes through.

use super::{OAuthService, TokenError, TokenRequest};
use crate::{
    domain::{
        issuer, jwt,
        oauth::{AccessClaims, OAuthError},
    },
    store::revoked,
};

/// Whether a person's sign-in gave the token (its subject is not the client itself).
pub fn is_user_token(claims: &AccessClaims) -> bool {
    claims.sub != claims.client_id
}

impl OAuthService {
    /// Verifies one of this server's access tokens: signature, an issuer of this server,
    /// expiry, revocation. A client's own token acts in the issuing tenant; a person's token
    /// ([`is_user_token`]) in the person's, which differs from it only for a public app.
    pub async fn verify(&self, token: &str, now: i64) -> Result<Option<AccessClaims>, TokenError> {
        let keys = self.key_set();
        let Ok(claims) = jwt::verify::<AccessClaims>(token, &keys.verifiers) else {
            return Ok(None);
        };
        let Some(issuing) = issuer::issuing_tenant(&self.inner.public_url, &claims.iss) else {
            return Ok(None);
        };
        if (!is_user_token(&claims) && issuing != claims.tenant) || claims.exp <= now {
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
        let issuing = issuer::issuing_tenant(&self.inner.public_url, &claims.iss);
        if issuing != Some(caller.tenant_id.as_str()) {
            return Ok(None);
        }
        let client_live = self
            .client(&claims.client_id)
            .await?
            .is_some_and(|c| !c.disabled && Some(c.tenant_id.as_str()) == issuing);
        Ok(client_live.then_some(claims))
    }
}
