//! The authorization endpoint's request rules (RFC 6749 §4.1, RFC 7636, RFC 9207, RFC 9700,
//! OpenID Connect Core §3.1.2), free of sessions and storage: which parameters it takes,
//! which errors may go back to the client and which may not, and how the answer is added to
//! the callback URL.

use super::oauth::{FormParams, form_decode};

/// Scopes of OpenID Connect that every app using the code flow may ask for; they are not in
/// any tenant's catalogue. `offline_access` is accepted for clients that send it; refresh
/// tokens come with the refresh-token grant whether or not it is asked for.
pub const OIDC_SCOPES: [(&str, &str); 4] = [
    (
        "openid",
        "Sign you in to the app with your Keyport account.",
    ),
    ("profile", "See your name."),
    ("email", "See your email address."),
    (
        "offline_access",
        "Stay connected when you are not using it.",
    ),
];

/// What `prompt` asks for (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Show nothing: answer at once or fail with `login_required` / `consent_required`.
    None,
    /// Sign in again even with a session.
    Login,
    /// Ask for consent again even when it was given before.
    Consent,
}

/// An authorization request whose client and redirect URI have not been checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
}

impl AuthorizeRequest {
    /// Parses the query string. `Err` (with a sentence for the error page) when it cannot be
    /// trusted to name a client and a redirect URI: a repeated parameter, a malformed escape,
    /// no `client_id`. Those are shown, never redirected.
    pub fn parse(query: &str) -> Result<AuthorizeRequest, String> {
        let params = FormParams::parse(query.as_bytes()).map_err(|e| e.description)?;
        let get = |name: &str| params.get(name).map(str::to_string);
        let client_id = get("client_id").ok_or_else(|| {
            "The request does not name a client (client_id is missing).".to_string()
        })?;
        Ok(AuthorizeRequest {
            client_id,
            redirect_uri: get("redirect_uri"),
            response_type: get("response_type"),
            scope: get("scope"),
            state: get("state"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            prompt: get("prompt"),
            max_age: get("max_age"),
        })
    }

    /// `prompt`, or the error to send back for a value this server does not honour.
    pub fn prompt(&self) -> Result<Option<Prompt>, AuthorizeError> {
        match self.prompt.as_deref() {
            None => Ok(None),
            Some("none") => Ok(Some(Prompt::None)),
            Some("login") => Ok(Some(Prompt::Login)),
            Some("consent") => Ok(Some(Prompt::Consent)),
            // The value is not repeated: an error description is the server's words, not a
            // stranger's text shown by the app.
            Some(_) => Err(AuthorizeError::invalid_request(
                "This prompt value is not supported; use none, login or consent.",
            )),
        }
    }

    /// `max_age` (OpenID Connect Core §3.1.2.1): how many seconds ago the person may have
    /// signed in at most before they must sign in again.
    pub fn max_age(&self) -> Result<Option<i64>, AuthorizeError> {
        match self.max_age.as_deref() {
            None => Ok(None),
            Some(value) => value
                .parse::<u32>()
                .map(|secs| Some(i64::from(secs)))
                .map_err(|_| {
                    AuthorizeError::invalid_request("max_age must be a whole number of seconds.")
                }),
        }
    }

    /// The PKCE challenge to bind the code to. Public clients must send one; `plain` is
    /// refused for everyone (RFC 9700 §2.1.1).
    pub fn challenge(&self, public_client: bool) -> Result<Option<String>, AuthorizeError> {
        match (&self.code_challenge, self.code_challenge_method.as_deref()) {
            (None, Some(_)) => Err(AuthorizeError::invalid_request(
                "code_challenge_method was sent without a code_challenge.",
            )),
            (None, None) if public_client => Err(AuthorizeError::invalid_request(
                "A public client must use PKCE: send code_challenge with code_challenge_method=S256.",
            )),
            (None, None) => Ok(None),
            (Some(_), Some(method)) if method != "S256" => Err(AuthorizeError::invalid_request(
                "This code_challenge_method is not supported; use S256.",
            )),
            (Some(_), None) => Err(AuthorizeError::invalid_request(
                "Send code_challenge_method=S256 with the code_challenge (plain is not supported).",
            )),
            (Some(challenge), Some(_)) => {
                if is_s256_challenge(challenge) {
                    Ok(Some(challenge.clone()))
                } else {
                    Err(AuthorizeError::invalid_request(
                        "The code_challenge is not an S256 challenge (43 base64url characters).",
                    ))
                }
            }
        }
    }

    /// The same request without `prompt=login`, for the way back from the sign-in page: the
    /// person has just signed in, and asking again would loop.
    pub fn query_without_login_prompt(query: &str) -> String {
        query
            .split('&')
            .filter(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                !(form_decode(name).as_deref() == Some("prompt")
                    && form_decode(value).as_deref() == Some("login"))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// An `S256` challenge is the unpadded base64url of a SHA-256 digest: 43 characters.
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// An error the authorization endpoint sends back to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeError {
    pub error: &'static str,
    pub description: String,
}

impl AuthorizeError {
    pub fn new(error: &'static str, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError {
            error,
            description: description.into(),
        }
    }
    pub fn invalid_request(description: impl Into<String>) -> AuthorizeError {
        AuthorizeError::new("invalid_request", description)
    }
}

/// `callback` with `params` added to its query (RFC 6749 §4.1.2: keep what it has).
pub fn redirect_to(callback: &str, params: &[(&str, &str)]) -> String {
    let mut url = String::from(callback);
    let mut separator = if callback.contains('?') { '&' } else { '?' };
    if callback.ends_with(['?', '&']) {
        separator = '\0';
    }
    for (name, value) in params {
        if separator != '\0' {
            url.push(separator);
        }
        separator = '&';
        url.push_str(name);
        url.push('=');
        url.push_str(&encode(value));
    }
    url
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether scopes consented to earlier cover every scope asked for now.
pub fn consent_covers(consented: &str, requested: &str) -> bool {
    requested
        .split_whitespace()
        .all(|s| consented.split_whitespace().any(|c| c == s))
}

/// The union of two scope lists, the earlier ones first.
pub fn merge_scopes(consented: &str, added: &str) -> String {
    let mut all: Vec<&str> = consented.split_whitespace().collect();
    for scope in added.split_whitespace() {
        if !all.contains(&scope) {
            all.push(scope);
        }
    }
    all.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> AuthorizeRequest {
        AuthorizeRequest::parse(query).unwrap()
    }

    #[test]
    fn a_request_that_cannot_name_its_client_is_shown_not_redirected() {
        assert!(AuthorizeRequest::parse("response_type=code").is_err());
        assert!(AuthorizeRequest::parse("client_id=a&client_id=b").is_err());
        assert!(AuthorizeRequest::parse("client_id=a&redirect_uri=%zz").is_err());
        assert_eq!(
            request("client_id=kpc_a&state=x%20y").state.as_deref(),
            Some("x y")
        );
    }

    #[test]
    fn pkce_is_s256_and_required_of_public_clients() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let with = |method: &str| {
            request(&format!(
                "client_id=a&code_challenge={challenge}&code_challenge_method={method}"
            ))
        };
        assert_eq!(
            with("S256").challenge(true).unwrap().as_deref(),
            Some(challenge)
        );
        assert_eq!(
            with("plain").challenge(false).unwrap_err().error,
            "invalid_request"
        );
        assert!(
            request(&format!("client_id=a&code_challenge={challenge}"))
                .challenge(false)
                .is_err()
        );
        assert!(request("client_id=a").challenge(true).is_err());
        assert_eq!(request("client_id=a").challenge(false).unwrap(), None);
        assert!(
            request("client_id=a&code_challenge=short&code_challenge_method=S256")
                .challenge(false)
                .is_err()
        );
        assert!(
            request("client_id=a&code_challenge_method=S256")
                .challenge(false)
                .is_err()
        );
    }

    #[test]
    fn max_age_is_whole_seconds() {
        assert_eq!(
            request("client_id=a&max_age=300").max_age().unwrap(),
            Some(300)
        );
        assert_eq!(request("client_id=a").max_age().unwrap(), None);
        assert!(request("client_id=a&max_age=-1").max_age().is_err());
        assert!(request("client_id=a&max_age=soon").max_age().is_err());
    }

    #[test]
    fn prompts() {
        assert_eq!(
            request("client_id=a&prompt=none").prompt().unwrap(),
            Some(Prompt::None)
        );
        assert_eq!(request("client_id=a").prompt().unwrap(), None);
        assert!(
            request("client_id=a&prompt=select_account")
                .prompt()
                .is_err()
        );
        assert_eq!(
            AuthorizeRequest::query_without_login_prompt("client_id=a&prompt=login&state=s"),
            "client_id=a&state=s"
        );
    }

    #[test]
    fn answers_keep_the_callbacks_own_query() {
        assert_eq!(
            redirect_to(
                "https://app.example/cb",
                &[("code", "c1"), ("state", "a b&c")]
            ),
            "https://app.example/cb?code=c1&state=a%20b%26c"
        );
        assert_eq!(
            redirect_to("https://app.example/cb?tenant=1", &[("code", "c")]),
            "https://app.example/cb?tenant=1&code=c"
        );
    }

    #[test]
    fn consent_covers_subsets() {
        assert!(consent_covers("openid email orders:read", "email openid"));
        assert!(!consent_covers("openid", "openid email"));
        assert!(consent_covers("openid", ""));
        assert_eq!(merge_scopes("a b", "b c"), "a b c");
    }
}
