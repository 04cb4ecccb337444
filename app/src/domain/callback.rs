//! The one callback (redirect) URL an app may have. Checked strictly at registration, because
//! at authorization time it is compared by exact string match only.

use std::net::IpAddr;

use url::{Host, Url};

use super::FieldError;

pub const MAX_LENGTH: usize = 2000;

/// Schemes that can run code or read local data in a browser, never a redirect target.
const FORBIDDEN_SCHEMES: &[&str] = &[
    "javascript",
    "data",
    "vbscript",
    "file",
    "blob",
    "about",
    "filesystem",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(String);

impl CallbackUrl {
    /// Accepts an absolute `https` URL; `http` only on localhost or a loopback address
    /// (RFC 8252 §7.3); or a private-use reverse-domain scheme such as `com.example.app:/cb`
    /// (RFC 8252 §7.1). Refuses fragments, user info, backslashes and dot segments.
    pub fn parse(input: &str) -> Result<CallbackUrl, FieldError> {
        let refuse = |why: &str| Err(FieldError::new("callback_url", why.to_string()));
        let raw = input.trim();
        if raw.is_empty() {
            return refuse("Enter a callback URL, like https://app.example.com/callback.");
        }
        if raw.len() > MAX_LENGTH {
            return refuse("The callback URL is too long (2000 characters at most).");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refuse("The callback URL cannot contain spaces or control characters.");
        }
        if raw.contains('\\') {
            return refuse("The callback URL cannot contain backslashes.");
        }
        if raw.contains('#') {
            return refuse("The callback URL cannot contain a fragment (the part after #).");
        }
        let url = match Url::parse(raw) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                return refuse(
                    "The callback URL must be absolute, like https://app.example.com/callback.",
                );
            }
            Err(_) => return refuse("This is not a valid URL."),
        };
        let scheme = url.scheme();
        if FORBIDDEN_SCHEMES.contains(&scheme) {
            return refuse(&format!(
                "The {scheme}: scheme is not allowed for a callback URL."
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse(
                "The callback URL cannot contain a user name or password (the part before @).",
            );
        }
        if has_dot_segment(raw) {
            return refuse("The callback URL cannot contain . or .. path segments.");
        }
        if matches!(scheme, "http" | "https") {
            // WHATWG parsing repairs `https:///cb` and `https:host` into other URLs; refuse
            // them so the stored URL is the one typed.
            let after = &raw[scheme.len()..];
            if !after.starts_with("://") || after[3..].starts_with('/') {
                return refuse(
                    "The callback URL needs a host name, like https://app.example.com/callback.",
                );
            }
        }
        match scheme {
            "https" => {
                if url.host().is_none() {
                    return refuse("The callback URL needs a host name.");
                }
            }
            "http" => {
                if !is_loopback(&url) {
                    return refuse(
                        "Use https. Plain http is allowed only for localhost and loopback addresses.",
                    );
                }
            }
            _ if scheme.contains('.') => {}
            _ => {
                return refuse(
                    "Use https, or for a native app a reverse-domain scheme like com.example.app:/callback.",
                );
            }
        }
        Ok(CallbackUrl(url.to_string()))
    }

    /// The URL as stored and as it must be matched, character for character.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `.`/`..` segments (also `..;`, which some servers read as `..`) would be normalised away by
/// a parser, so the stored URL would not be the one the developer typed.
fn has_dot_segment(raw: &str) -> bool {
    let after_scheme = raw.split_once(':').map(|(_, rest)| rest).unwrap_or(raw);
    let path = after_scheme.split(['?']).next().unwrap_or_default();
    path.split('/').any(|segment| {
        let segment = segment
            .split(';')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        matches!(
            segment.as_str(),
            "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        CallbackUrl::parse(input)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .as_str()
            .to_string()
    }

    fn refused(input: &str) -> String {
        let err = CallbackUrl::parse(input).expect_err(input);
        assert_eq!(err.field, "callback_url");
        err.message
    }

    #[test]
    fn accepts_https_loopback_http_and_native_schemes() {
        assert_eq!(
            ok("https://app.example.com/callback"),
            "https://app.example.com/callback"
        );
        assert_eq!(
            ok("  https://app.example.com/cb?x=1  "),
            "https://app.example.com/cb?x=1"
        );
        assert_eq!(ok("http://localhost:8080/cb"), "http://localhost:8080/cb");
        assert_eq!(ok("http://127.0.0.1:5000/cb"), "http://127.0.0.1:5000/cb");
        assert_eq!(ok("http://[::1]/cb"), "http://[::1]/cb");
        assert_eq!(
            ok("com.example.app:/oauth2redirect"),
            "com.example.app:/oauth2redirect"
        );
    }

    #[test]
    fn case_of_scheme_and_host_is_normalised_and_a_trailing_slash_is_kept_as_typed() {
        assert_eq!(
            ok("HTTPS://App.Example.COM/Callback"),
            "https://app.example.com/Callback"
        );
        assert_eq!(ok("https://example.com/cb/"), "https://example.com/cb/");
        assert_ne!(ok("https://example.com/cb/"), ok("https://example.com/cb"));
    }

    #[test]
    fn refuses_hostile_and_malformed_urls_with_a_reason() {
        assert!(refused("javascript:alert(1)").contains("javascript"));
        assert!(refused("jAvAscript:alert(1)").contains("javascript"));
        assert!(refused("data:text/html,<script>alert(1)</script>").contains("data"));
        assert!(refused("file:///etc/passwd").contains("file"));
        assert!(refused("/callback").contains("absolute"));
        assert!(refused("example.com/callback").contains("absolute"));
        assert!(refused("https://app.example.com/cb#frag").contains("fragment"));
        assert!(refused("https://user:pass@app.example.com/cb").contains("user name"));
        assert!(refused("https://app.example.com@evil.example/cb").contains("user name"));
        assert!(refused("https://good.example\\@evil.example/").contains("backslash"));
        assert!(refused("https://app.example.com/cb/..;/admin").contains(".."));
        assert!(refused("https://app.example.com/a/../cb").contains(".."));
        assert!(refused("https://app.example.com/a/%2e%2e/cb").contains(".."));
        assert!(refused("http://app.example.com/cb").contains("https"));
        assert!(refused("http://127.0.0.1.evil.example/cb").contains("https"));
        assert!(refused("http://localhost.evil.example/cb").contains("https"));
        assert!(refused("myapp:/cb").contains("reverse-domain"));
        assert!(refused("https:///cb").contains("host name"));
        assert!(refused("https:app.example.com/cb").contains("host name"));
        assert!(refused("").contains("Enter"));
        assert!(refused("https://exa mple.com/").contains("spaces"));
        assert!(refused(&format!("https://example.com/{}", "a".repeat(2000))).contains("too long"));
    }
}
