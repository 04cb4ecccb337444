//! RFC 7009 revocation.

use super::{OAuthService, TokenError, TokenRequest};
use crate::{
    domain::{
        credentials::{REFRESH_TOKEN_PREFIX, is_well_formed_opaque},
        oauth::OAuthError,
    },
    store::{refresh_tokens, revoked},
};

impl OAuthService {
    /// Revokes an access token or a refresh token (with its whole family) issued to the
    /// calling client; public clients name themselves by id. Unknown tokens and other
    /// clients' tokens are accepted and ignored, so the answer reveals nothing.
    pub async fn revoke(&self, request: &TokenRequest<'_>) -> Result<(), TokenError> {
        let now = self.now();
        let caller = self.identify(request, now).await?;
        let Some(token) = request.form.get("token") else {
            return Err(OAuthError::invalid_request("The token parameter is missing.").into());
        };
        if is_well_formed_opaque(REFRESH_TOKEN_PREFIX, token) {
            let hash = self.inner.hasher.hash(token);
            if let Some(state) = refresh_tokens::state(&self.inner.db, &hash).await?
                && state.client_id == caller.client_id
            {
                refresh_tokens::revoke_family(&self.inner.db, &state.family_id, now).await?;
            }
            return Ok(());
        }
        if let Some(claims) = self.verify(token, now).await?
            && claims.client_id == caller.client_id
        {
            revoked::insert(&self.inner.db, &claims.jti, &claims.tenant, claims.exp, now).await?;
        }
        Ok(())
    }
}
