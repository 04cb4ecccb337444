//! The token endpoint's request rules (RFC 6749 §2.3.1, §4.4, §5.2; RFC 8707), free of HTTP
//! types: a strict form parser, HTTP Basic client credentials, scope and audience choice, and
//! the access token's claims (RFC 9068).

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};

/// The RFC 6749 §5.2 error codes (plus RFC 8707's `invalid_target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
        }
    }
}

/// A refused token request: the code, a sentence for the developer, and whether the client
/// tried HTTP Basic (then a 401 carries `WWW-Authenticate: Basic`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    pub basic_attempted: bool,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
            basic_attempted: false,
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(ErrorCode::InvalidRequest, description)
    }
    /// The one answer for every failed client authentication, so that it tells an attacker
    /// nothing about which part was wrong.
    pub fn invalid_client(basic_attempted: bool) -> OAuthError {
        OAuthError {
            code: ErrorCode::InvalidClient,
            description: "Client authentication failed.".into(),
            basic_attempted,
        }
    }
}

/// Decodes `application/x-www-form-urlencoded` text strictly: `+` is a space, `%` must be
/// followed by two hex digits, and the bytes must be UTF-8. `None` when any of that fails.
pub fn form_decode(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A form body's parameters: none repeated, empty ones dropped (RFC 6749 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams(Vec<(String, String)>);

impl FormParams {
    pub fn parse(body: &[u8]) -> Result<FormParams, OAuthError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| OAuthError::invalid_request("The request body is not UTF-8."))?;
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (Some(name), Some(value)) = (form_decode(name), form_decode(value)) else {
                return Err(OAuthError::invalid_request(
                    "The request body has a malformed %-escape or is not UTF-8.",
                ));
            };
            if params.iter().any(|(n, _)| *n == name) {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter {name} appears more than once."
                )));
            }
            params.push((name, value));
        }
        params.retain(|(_, v)| !v.is_empty());
        Ok(FormParams(params))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A client id and secret from HTTP Basic, each form-urlencoded inside the base64 (RFC 6749
/// §2.3.1). `Ok(None)` when there is no `Authorization` header.
pub fn parse_basic(header: Option<&[u8]>) -> Result<Option<(String, String)>, OAuthError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let header = std::str::from_utf8(header).map_err(|_| OAuthError::invalid_client(true))?;
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        // Another scheme (Bearer, say) is not a way to authenticate a client here.
        return Err(OAuthError::invalid_client(false));
    }
    let malformed = || OAuthError::invalid_client(true);
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let (id, secret) = (
        form_decode(id).ok_or_else(malformed)?,
        form_decode(secret).ok_or_else(malformed)?,
    );
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((id, secret)))
}

/// How the client presented its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub via_basic: bool,
}

/// Basic or the body, never both (RFC 6749 §2.3.1). A body `client_id` beside Basic must name
/// the same client. No credentials at all is `invalid_client`.
pub fn client_credentials(
    basic: Option<(String, String)>,
    form: &FormParams,
) -> Result<ClientCredentials, OAuthError> {
    let (body_id, body_secret) = (form.get("client_id"), form.get("client_secret"));
    match basic {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "Authenticate with HTTP Basic or with client_secret in the body, not both.",
                ));
            }
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "The client_id in the body differs from the one in the Authorization header.",
                ));
            }
            Ok(ClientCredentials {
                client_id: id,
                client_secret: Some(secret),
                via_basic: true,
            })
        }
        None => match body_id {
            Some(id) => Ok(ClientCredentials {
                client_id: id.to_string(),
                client_secret: body_secret.map(str::to_string),
                via_basic: false,
            }),
            None => Err(OAuthError::invalid_client(false)),
        },
    }
}

/// The scopes granted: all the app is allowed when none are asked for, else exactly those
/// asked for, each of which must be allowed. Order kept, repeats dropped.
pub fn grant_scopes(requested: Option<&str>, allowed: &[String]) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed.join(" "));
    };
    let mut granted: Vec<&str> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == scope) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("The scope {scope} is not allowed for this client."),
            ));
        }
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    Ok(granted.join(" "))
}

/// The token's audience: the tenant's default, or one named by `audience` (seed 002) or
/// `resource` (RFC 8707) that the app is allowed.
pub fn choose_audience(
    audience: Option<&str>,
    resource: Option<&str>,
    default: &str,
    allowed: &[String],
) -> Result<String, OAuthError> {
    let wanted = match (audience, resource) {
        (Some(a), Some(r)) if a != r => {
            return Err(OAuthError::invalid_request(
                "Name the audience with audience or resource, not two different ones.",
            ));
        }
        (Some(a), _) => a,
        (None, Some(r)) => {
            if url::Url::parse(r).map_or(true, |u| u.fragment().is_some()) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidTarget,
                    "The resource must be an absolute URI without a fragment.",
                ));
            }
            r
        }
        (None, None) => return Ok(default.to_string()),
    };
    if wanted == default || allowed.iter().any(|a| a == wanted) {
        Ok(wanted.to_string())
    } else {
        Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            format!("This client may not ask for tokens for {wanted}."),
        ))
    }
}

/// An access token's claims (RFC 9068 §2.2, plus `tenant` and `roles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub tenant: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> Result<Option<(String, String)>, OAuthError> {
        parse_basic(Some(raw.as_bytes()))
    }

    fn b64(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", b64(b"my%20client:p%40ss+word%3A"));
        assert_eq!(
            basic(&header).unwrap(),
            Some(("my client".into(), "p@ss word:".into()))
        );
        assert_eq!(
            basic(&format!("basic {}", b64(b"kpc_a:kps_b"))).unwrap(),
            Some(("kpc_a".into(), "kps_b".into()))
        );
        assert_eq!(parse_basic(None).unwrap(), None);
    }

    #[test]
    fn malformed_basic_is_invalid_client_with_a_challenge() {
        for bad in [
            "Basic".to_string(),
            "Basic !!!notbase64".to_string(),
            format!("Basic {}", b64(b"no-colon")),
            format!("Basic {}", b64(b"\xff\xfe:secret")),
            format!("Basic {}", b64(b"id:%zz")),
            format!("Basic {}", b64(b"id:%c3%28")),
            format!("Basic {}", b64(b":secret")),
        ] {
            let e = basic(&bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{bad}");
            assert!(e.basic_attempted, "{bad}");
        }
        let bearer = basic("Bearer abc").unwrap_err();
        assert_eq!(bearer.code, ErrorCode::InvalidClient);
        assert!(!bearer.basic_attempted);
    }

    #[test]
    fn form_rules() {
        let f = FormParams::parse(b"grant_type=client_credentials&scope=a+b&audience=").unwrap();
        assert_eq!(f.get("grant_type"), Some("client_credentials"));
        assert_eq!(f.get("scope"), Some("a b"));
        assert_eq!(f.get("audience"), None, "empty counts as absent");
        let repeated = FormParams::parse(b"scope=a&grant_type=x&scope=b").unwrap_err();
        assert_eq!(repeated.code, ErrorCode::InvalidRequest);
        assert!(repeated.description.contains("scope"));
        assert!(FormParams::parse(b"scope=%zz").is_err());
        assert!(FormParams::parse(b"scope=%ff").is_err());
        assert!(FormParams::parse(b"scope=\xff").is_err());
        assert_eq!(FormParams::parse(b"").unwrap(), FormParams::default());
    }

    #[test]
    fn credentials_come_from_basic_or_the_body_never_both() {
        let form = |s: &str| FormParams::parse(s.as_bytes()).unwrap();
        let basic = Some(("kpc_a".to_string(), "kps_s".to_string()));
        assert!(client_credentials(basic.clone(), &form("grant_type=x")).is_ok());
        assert!(client_credentials(basic.clone(), &form("client_id=kpc_a")).is_ok());
        let both = client_credentials(basic.clone(), &form("client_secret=kps_s")).unwrap_err();
        assert_eq!(both.code, ErrorCode::InvalidRequest);
        let other = client_credentials(basic, &form("client_id=kpc_b")).unwrap_err();
        assert_eq!(other.code, ErrorCode::InvalidRequest);
        let post = client_credentials(None, &form("client_id=kpc_a&client_secret=kps_s")).unwrap();
        assert_eq!(post.client_secret.as_deref(), Some("kps_s"));
        assert!(!post.via_basic);
        let none = client_credentials(None, &form("grant_type=x")).unwrap_err();
        assert_eq!(none.code, ErrorCode::InvalidClient);
    }

    #[test]
    fn scopes_are_a_subset_of_the_allowed() {
        let allowed = vec!["orders:read".to_string(), "orders:write".to_string()];
        assert_eq!(
            grant_scopes(None, &allowed).unwrap(),
            "orders:read orders:write"
        );
        assert_eq!(
            grant_scopes(Some("orders:write orders:write"), &allowed).unwrap(),
            "orders:write"
        );
        let e = grant_scopes(Some("orders:read admin"), &allowed).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert!(e.description.contains("admin"));
        assert_eq!(grant_scopes(None, &[]).unwrap(), "");
    }

    #[test]
    fn audiences() {
        let allowed = vec!["https://api.example.com".to_string()];
        let d = "https://id.example.com/tenants/t1";
        assert_eq!(choose_audience(None, None, d, &allowed).unwrap(), d);
        assert_eq!(
            choose_audience(None, Some("https://api.example.com"), d, &allowed).unwrap(),
            "https://api.example.com"
        );
        assert_eq!(choose_audience(Some(d), None, d, &allowed).unwrap(), d);
        for (a, r) in [
            (Some("https://evil.example"), None),
            (None, Some("https://evil.example")),
            (None, Some("not a uri")),
            (None, Some("https://api.example.com#x")),
        ] {
            assert_eq!(
                choose_audience(a, r, d, &allowed).unwrap_err().code,
                ErrorCode::InvalidTarget
            );
        }
        assert_eq!(
            choose_audience(Some(d), Some("https://api.example.com"), d, &allowed)
                .unwrap_err()
                .code,
            ErrorCode::InvalidRequest
        );
    }
}
