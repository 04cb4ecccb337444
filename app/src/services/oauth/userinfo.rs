//! The OpenID Connect UserInfo endpoint (Core §5.3): what a person's access token with scope
//! `openid` may read about them. A client's own token has no person behind it: 401.

use serde_json::{Map, Value, json};

use super::{OAuthService, TokenError, introspection::is_user_token, user_tokens::has_scope};
use crate::{domain::issuer, store::users};

/// Why the UserInfo endpoint refused a bearer token (RFC 6750 §3.1).
#[derive(Debug)]
pub enum UserinfoError {
    /// Missing, not this server's, expired, revoked, not a person's, or another issuer's.
    InvalidToken,
    /// A person's token without scope `openid`.
    InsufficientScope,
    Internal(String),
}

impl From<TokenError> for UserinfoError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Internal(detail) => UserinfoError::Internal(detail),
            _ => UserinfoError::InvalidToken,
        }
    }
}

impl OAuthService {
    /// `GET/POST /oauth/userinfo` (or `{issuer}/oauth/userinfo` with `tenant`).
    pub async fn userinfo(
        &self,
        tenant: Option<&str>,
        token: &str,
    ) -> Result<Value, UserinfoError> {
        let claims = self
            .verify(token, self.now())
            .await?
            .filter(is_user_token)
            .ok_or(UserinfoError::InvalidToken)?;
        let issuing = issuer::issuing_tenant(&self.inner.public_url, &claims.iss);
        if tenant.is_some_and(|t| Some(t) != issuing) {
            return Err(UserinfoError::InvalidToken);
        }
        // Checked now, as introspection does: a deleted or switched-off app reads nothing more.
        let client_live = self
            .client(&claims.client_id)
            .await?
            .is_some_and(|c| !c.disabled && Some(c.tenant_id.as_str()) == issuing);
        if !client_live {
            return Err(UserinfoError::InvalidToken);
        }
        if !has_scope(&claims.scope, "openid") {
            return Err(UserinfoError::InsufficientScope);
        }
        let user = users::get(&self.inner.db, &claims.sub)
            .await
            .map_err(|e| UserinfoError::Internal(e.to_string()))?
            .ok_or(UserinfoError::InvalidToken)?;
        let mut info = Map::new();
        info.insert("sub".into(), json!(claims.sub));
        if has_scope(&claims.scope, "email") {
            info.insert("email".into(), json!(user.email));
            // Keyport does not prove that people own their email address (no mail is sent).
            info.insert("email_verified".into(), json!(false));
        }
        if has_scope(&claims.scope, "profile") {
            info.insert("name".into(), json!(user.display_name));
        }
        Ok(Value::Object(info))
    }
}
