//! RFC 7009 revocation.

use super::{OAuthService, TokenError};
use crate::{
    domain::oauth::{FormParams, OAuthError},
    store::revoked,
};

impl OAuthService {
    /// Revokes an access token issued to the calling client. Unknown tokens and other
    /// clients' tokens are accepted and ignored, so the answer reveals nothing.
    pub async fn revoke(
        &self,
        authorization: Option<&[u8]>,
        form: &FormParams,
        ip: Option<&str>,
    ) -> Result<(), TokenError> {
        let now = self.now();
        let caller = self.caller(authorization, form, ip, now).await?;
        let Some(token) = form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        if let Some(claims) = self.verify(token, now).await?
            && claims.client_id == caller.client_id
        {
            revoked::insert(&self.inner.db, &claims.jti, &claims.tenant, claims.exp, now).await?;
        }
        Ok(())
    }
}
