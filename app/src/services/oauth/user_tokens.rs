//! Minting what a person's sign-in gives an app (SPEC §3a): an access token whose `sub` is
//! the person, a refresh token that starts or continues its family, and with scope `openid`
//! an OpenID Connect ID token. The code and refresh grants both end here.

use serde::Serialize;

use super::{IssuedToken, OAuthService, TokenError, clients::CachedClient};
use crate::{
    domain::oauth::AccessClaims,
    store::{new_id, users},
};

/// What a code or a refresh token says about the sign-in it came from.
pub(super) struct UserGrant<'a> {
    pub user_id: &'a str,
    /// The tenant the person acts in: the `tenant` claim.
    pub tenant_id: &'a str,
    pub scope: &'a str,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    /// Chosen ahead when a code is made, so that a replay can revoke it (SPEC §3a).
    pub jti: Option<String>,
}

/// OpenID Connect Core §2.
#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    /// Always false with `email`: Keyport does not prove that people own their address, and
    /// an app that links accounts by email must not take it as proven.
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

pub(super) fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split_whitespace().any(|s| s == wanted)
}

impl OAuthService {
    /// Signs the access token (and with `openid` the ID token) of `grant` for `client`, and
    /// hands back `refresh_token` with them.
    pub(super) async fn issue_user_tokens(
        &self,
        client: &CachedClient,
        grant: UserGrant<'_>,
        refresh_token: Option<String>,
        now: i64,
    ) -> Result<IssuedToken, TokenError> {
        let claims = AccessClaims {
            iss: client.issuer.clone(),
            sub: grant.user_id.to_string(),
            aud: client.default_audience.clone(),
            client_id: client.client_id.clone(),
            scope: grant.scope.to_string(),
            iat: now,
            exp: now + client.lifetime_secs,
            jti: grant.jti.unwrap_or_else(new_id),
            tenant: grant.tenant_id.to_string(),
            // Roles are the app's own, for what it does as itself; a person's token carries none.
            roles: Vec::new(),
        };
        let keys = self.key_set();
        let signer = keys
            .signer(now)
            .ok_or_else(|| TokenError::Internal("no signing key".into()))?;
        let id_token = if has_scope(grant.scope, "openid") {
            let user = users::get(&self.inner.db, grant.user_id)
                .await?
                .ok_or_else(|| TokenError::Internal("the signed-in user is gone".into()))?;
            let id = IdClaims {
                iss: &client.issuer,
                sub: grant.user_id,
                aud: &client.client_id,
                exp: now + client.lifetime_secs,
                iat: now,
                auth_time: grant.auth_time,
                nonce: grant.nonce,
                email: has_scope(grant.scope, "email").then_some(user.email.as_str()),
                email_verified: has_scope(grant.scope, "email").then_some(false),
                name: has_scope(grant.scope, "profile").then_some(user.display_name.as_str()),
            };
            Some(signer.sign_id_token(&id)?)
        } else {
            None
        };
        Ok(IssuedToken {
            access_token: signer.sign(&claims)?,
            expires_in: client.lifetime_secs,
            scope: grant.scope.to_string(),
            refresh_token,
            id_token,
        })
    }
}
