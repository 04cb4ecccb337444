//! Token requests: the client credentials grant as clients send it, and the keys that verify
//! what it issues.

use jsonwebtoken::jwk::JwkSet;
use reqwest::Response;
use serde_json::Value;

use super::{
    fixtures::{Client, admin_tool},
    test_app::TestApp,
};

/// An HTTP Basic `Authorization` value for a client id and secret.
pub fn basic(id: &str, secret: &str) -> String {
    use base64::{Engine, engine::general_purpose::STANDARD};
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// Checks a token as a resource server configured with one issuer, its keys and its audience
/// would (RFC 9068 §4), with an independent JWT library; the claims, or why it is refused.
pub fn check_as_resource_server(
    keys: &JwkSet,
    issuer: &str,
    audience: &str,
    token: &str,
) -> Result<Value, String> {
    use jsonwebtoken::{DecodingKey, Validation};
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.typ.as_deref() != Some("at+jwt") {
        return Err(format!("typ is {:?}, not at+jwt", header.typ));
    }
    let kid = header.kid.as_deref().ok_or("no kid")?;
    let jwk = keys.find(kid).ok_or("the token's key is not published")?;
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

/// The access token of a successful token response.
pub async fn access_token(res: Response) -> String {
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

impl TestApp {
    /// The token endpoint, with `body` as the form and `auth` as the `Authorization` header.
    pub async fn token(&self, auth: Option<&str>, body: &str) -> Response {
        self.post_form("/oauth/token", auth, body).await
    }

    /// The client credentials grant with HTTP Basic, for `resource` when given.
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &str,
        resource: Option<&str>,
    ) -> Response {
        let mut body = "grant_type=client_credentials".to_string();
        if let Some(r) = resource {
            body.push_str(&format!("&resource={}", urlencode(r)));
        }
        self.token(Some(&basic(client_id, secret)), &body).await
    }

    /// The client credentials grant for `c`, with HTTP Basic and nothing else.
    pub async fn token_for(&self, c: &Client) -> Response {
        self.client_credentials(&c.client_id, &c.secret, None).await
    }

    /// A new admin tool client in `tenant` and a management-API token of it.
    pub async fn admin_token(&self, tenant: &str) -> (Client, String) {
        let tool = admin_tool(&self.db, tenant).await;
        let res = self
            .client_credentials(&tool.client_id, &tool.secret, Some(&self.url("/api/v1")))
            .await;
        (tool, access_token(res).await)
    }

    /// The signing keys this instance publishes.
    pub async fn jwks(&self) -> JwkSet {
        self.get_json("/.well-known/jwks.json").await
    }

    /// The signing keys under `tenant_id`'s issuer.
    pub async fn tenant_jwks(&self, tenant_id: &str) -> JwkSet {
        self.get_json(&format!("/t/{tenant_id}/jwks.json")).await
    }
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}
