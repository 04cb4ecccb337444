//! Each tenant's discovery document (RFC 8414, OpenID Connect Discovery): its issuer and the
//! endpoints under it. What works today and nothing more: the grant and response types come
//! from the registered grants ([`super::Grant::REGISTERED`]).

use serde_json::{Value, json};

use super::{OAuthService, TokenError};
use crate::{
    domain::{authorize::OIDC_SCOPES, issuer},
    store::tenants,
};

/// How client authentication works at the introspection endpoint: confidential clients only.
const INTROSPECTION_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];
/// At the token and revocation endpoints public clients present their id alone (`none`).
const AUTH_METHODS_WITH_NONE: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

impl OAuthService {
    /// Whether `tenant_id` names a tenant of this server; ids that could not be one are
    /// refused without a lookup.
    pub async fn tenant_exists(&self, tenant_id: &str) -> Result<bool, TokenError> {
        let plausible = (1..=64).contains(&tenant_id.len())
            && tenant_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !plausible {
            return Ok(false);
        }
        Ok(tenants::get(&self.inner.db, tenant_id).await?.is_some())
    }

    /// The discovery document of `tenant_id`'s issuer; `None` when there is no such tenant.
    pub async fn metadata(&self, tenant_id: &str) -> Result<Option<Value>, TokenError> {
        if !self.tenant_exists(tenant_id).await? {
            return Ok(None);
        }
        let issuer = issuer::tenant_issuer(&self.inner.public_url, tenant_id);
        let algorithms: Vec<&str> = self.algorithms().into_iter().map(|a| a.as_str()).collect();
        Ok(Some(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
            "jwks_uri": format!("{issuer}/jwks.json"),
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "grant_types_supported": self.grant_types_supported(),
            "response_types_supported": self.response_types_supported(),
            "token_endpoint_auth_methods_supported": AUTH_METHODS_WITH_NONE,
            "introspection_endpoint_auth_methods_supported": INTROSPECTION_AUTH_METHODS,
            "revocation_endpoint_auth_methods_supported": AUTH_METHODS_WITH_NONE,
            // The OpenID Connect scopes; the rest belong to each tenant's catalogue, which is
            // not public.
            "scopes_supported": OIDC_SCOPES.map(|(name, _)| name),
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algorithms,
            "authorization_response_iss_parameter_supported": true,
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name"],
            "prompt_values_supported": ["none", "login", "consent"],
            "claims_parameter_supported": false,
            "token_endpoint_auth_signing_alg_values_supported": [],
            "access_token_signing_alg_values_supported": algorithms,
        })))
    }
}
