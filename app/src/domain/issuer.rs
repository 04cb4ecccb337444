//! Each tenant is its own issuer and trust domain (SPEC §1 "issuer"): its tokens say
//! `iss = {public URL}/t/{tenant_id}`, and audiences under the public URL belong to the
//! server, which hands each tenant exactly one of them. Without that rule any tenant could
//! name another tenant's audience (or the management API's) and mint tokens a resource
//! server of the other tenant accepts.

/// A tenant's issuer: the `iss` of its tokens and the base of its endpoints.
pub fn tenant_issuer(public_url: &str, tenant_id: &str) -> String {
    format!("{public_url}/t/{tenant_id}")
}

/// The tenant whose issuer `iss` is, if it is one of this server's.
pub fn issuing_tenant<'a>(public_url: &str, iss: &'a str) -> Option<&'a str> {
    let tenant = iss.strip_prefix(public_url)?.strip_prefix("/t/")?;
    (!tenant.is_empty() && !tenant.contains('/')).then_some(tenant)
}

/// The OpenID discovery document of a tenant (`{issuer}/.well-known/openid-configuration`).
pub fn discovery_url(public_url: &str, tenant_id: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        tenant_issuer(public_url, tenant_id)
    )
}

/// The audience of a tenant that has not chosen one: unique per tenant, under the public URL.
pub fn derived_audience(public_url: &str, tenant_id: &str) -> String {
    format!("{public_url}/tenants/{tenant_id}")
}

/// The `aud` of tokens for the management API (RFC 8707 resource `{public URL}/api/v1`), which
/// only tool clients with the `admin` role may get.
pub fn management_audience(public_url: &str) -> String {
    format!("{public_url}/api/v1")
}

/// Whether `audience` lies under the public URL: the URL itself, or a path below it (not a
/// longer host or port that merely starts with the same characters).
pub fn is_under_public_url(public_url: &str, audience: &str) -> bool {
    let Some(rest) = strip_prefix_ignore_ascii_case(audience, public_url) else {
        return false;
    };
    rest.is_empty() || rest.starts_with(['/', '?', '#'])
}

fn strip_prefix_ignore_ascii_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Why a tenant may not use `audience` as an app's audience or its default audience: every
/// audience under the public URL is reserved but the tenant's own derived one. `None` when
/// the audience is the tenant's to use.
pub fn reserved_audience_reason(
    public_url: &str,
    tenant_id: &str,
    audience: &str,
) -> Option<&'static str> {
    if !is_under_public_url(public_url, audience)
        || audience == derived_audience(public_url, tenant_id)
    {
        return None;
    }
    if audience == management_audience(public_url) {
        return Some("The management API's audience is for admin tool clients only.");
    }
    Some("Audiences under this server's address are reserved; use your own API's URL.")
}

/// Whether a client of `tenant_id` may have a token for `audience`: reserved audiences are
/// never, whatever was stored before this rule (the management audience is added for admin
/// tool clients separately, after this filter).
pub fn may_use_audience(public_url: &str, tenant_id: &str, audience: &str) -> bool {
    reserved_audience_reason(public_url, tenant_id, audience).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://id.example.com";

    #[test]
    fn a_tenant_issuer_and_its_discovery_document_live_under_the_public_url() {
        let iss = tenant_issuer(URL, "t1");
        assert_eq!(iss, "https://id.example.com/t/t1");
        assert_eq!(
            discovery_url(URL, "t1"),
            "https://id.example.com/t/t1/.well-known/openid-configuration"
        );
    }

    #[test]
    fn issuer_names_its_tenant() {
        let url = "https://id.example.com";
        assert_eq!(issuing_tenant(url, &tenant_issuer(url, "t1")), Some("t1"));
        assert_eq!(issuing_tenant(url, "https://id.example.com/t/"), None);
        assert_eq!(issuing_tenant(url, "https://id.example.com/t/a/b"), None);
        assert_eq!(
            issuing_tenant(url, "https://id.example.community/t/a"),
            None
        );
        assert_eq!(issuing_tenant(url, "https://other.example/t/a"), None);
    }

    #[test]
    fn only_the_tenants_own_derived_audience_is_free_under_the_public_url() {
        assert_eq!(
            reserved_audience_reason(URL, "v", &derived_audience(URL, "v")),
            None
        );
        for taken in [
            derived_audience(URL, "m"),
            tenant_issuer(URL, "v"),
            format!("{URL}/"),
            URL.to_string(),
            "HTTPS://ID.EXAMPLE.COM/tenants/v".to_string(),
            format!("{URL}/anything?x=1"),
        ] {
            assert!(
                reserved_audience_reason(URL, "v", &taken).is_some(),
                "{taken} is reserved"
            );
        }
        assert_eq!(
            reserved_audience_reason(URL, "v", &management_audience(URL)),
            Some("The management API's audience is for admin tool clients only.")
        );
    }

    #[test]
    fn look_alike_hosts_are_not_under_the_public_url() {
        for free in [
            "https://id.example.com.evil.example/tenants/v",
            "https://id.example.community",
            "https://api.example.com",
        ] {
            assert!(may_use_audience(URL, "v", free), "{free} is free");
        }
        assert!(!is_under_public_url(
            "http://127.0.0.1:3000",
            "http://127.0.0.1:30001/x"
        ));
        assert!(is_under_public_url(
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/x"
        ));
    }
}
