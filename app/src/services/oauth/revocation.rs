//! RFC 7009 revocation.

use super::{OAuthService, TokenError, TokenRequest};
use crate::{domain::oauth::OAuthError, store::revoked};

impl OAuthService {
    /// Revokes an access token issued to the calling client. Unknown tokens and other
    /// clients' tokens are accepted and ignored, so the answer reveals nothing.
    pub async fn revoke(&self, request: &TokenRequest<'_>) -> Result<(), TokenError> {
        let now = self.now();
        let caller = self.caller(request, now).await?;
        let Some(token) = request.form.get("token") else {
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
