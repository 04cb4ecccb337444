//! Whose request this is: the peer's address, or behind a trusted reverse proxy the address
//! that proxy says it forwarded for (SPEC §2 `KEYPORT_TRUSTED_PROXIES`). Rate limits and audit
//! events key on it, so a header from anyone else must count for nothing: otherwise a caller
//! could name a fresh address on every request, or someone else's, and slip every limit.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

use app::auth::ClientAddress;

/// Which header the trusted proxies write the client's address into. Only one is read: a
/// proxy appends to its own header and passes the other through as the client sent it, so
/// reading both (or the wrong one) would believe whatever the client wrote there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx, HAProxy, AWS load balancers, Traefik, Envoy, Cloudflare).
    #[default]
    #[value(name = "x-forwarded-for")]
    XForwardedFor,
    /// `Forwarded` (RFC 7239).
    #[value(name = "forwarded")]
    Forwarded,
}

/// The proxies whose forwarding header is believed, and which header that is.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    networks: Arc<Vec<IpNet>>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies {
            networks: Arc::new(networks),
            header,
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// nearest address in its forwarding header that is not itself a trusted proxy. Each
    /// proxy appends the address it received from, so reading from the right stops at the
    /// first hop nobody trusted vouches beyond; whatever the client wrote further left is
    /// its own claim and ignored.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_hops(self.header, headers).into_iter().rev() {
            let Some(hop) = hop else {
                // A hop we cannot read: the last address we could vouch for stands.
                break;
            };
            client = canonical(hop);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// An IPv4 address in IPv6 clothing (`::ffff:1.2.3.4`, as a dual-stack socket reports it) is
/// the IPv4 address, so a limit or a trusted network written for one covers the other.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The addresses `header` lists, left to right; `None` for an element that is not an address
/// (an obfuscated identifier, `unknown`, garbage). Several header lines are one list.
fn forwarded_hops(header: ForwardedHeader, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .flat_map(|v| v.to_str().unwrap_or("\u{0}").split(','))
    };
    match header {
        ForwardedHeader::XForwardedFor => values("x-forwarded-for")
            .map(|hop| parse_node(hop.trim()))
            .collect(),
        ForwardedHeader::Forwarded => values(header::FORWARDED.as_str())
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
            })
            .collect(),
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// Puts the request's [`ClientAddress`] in its extensions, where the OAuth endpoints, the
/// REST API and the server functions read it.
pub async fn resolve(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = trusted.client_of(peer.ip(), req.headers());
        req.extensions_mut().insert(ClientAddress(client));
    }
    next.run(req).await
}

/// Parses `KEYPORT_TRUSTED_PROXIES` elements: a CIDR (`10.0.0.0/8`) or a single address.
pub fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{value}` is not a CIDR (10.0.0.0/8) or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(list: &[&str]) -> TrustedProxies {
        proxies_writing(list, ForwardedHeader::XForwardedFor)
    }

    fn proxies_writing(list: &[&str], header: ForwardedHeader) -> TrustedProxies {
        let networks = list.iter().map(|n| parse_network(n).unwrap()).collect();
        TrustedProxies::new(networks, header)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_s_headers_count_for_nothing() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(none.client_of(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        let some = proxies(&["10.0.0.0/8"]);
        assert_eq!(some.client_of(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.7"]);
        // The client claims 6.6.6.6; the outer proxy 192.0.2.7 saw 198.51.100.4.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 192.0.2.7")]);
        assert_eq!(trusted.client_of(ip("10.1.2.3"), &h), ip("198.51.100.4"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.4"),
        ]);
        assert_eq!(trusted.client_of(ip("10.1.2.3"), &h), ip("198.51.100.4"));
        // No header: the proxy itself is all we know.
        assert_eq!(
            trusted.client_of(ip("10.1.2.3"), &HeaderMap::new()),
            ip("10.1.2.3")
        );
        // Unreadable hop: stop at the last one a trusted proxy vouched for.
        let h = headers(&[("x-forwarded-for", "198.51.100.4, garbage")]);
        assert_eq!(trusted.client_of(ip("10.1.2.3"), &h), ip("10.1.2.3"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.4"),
            (
                "forwarded",
                "for=7.7.7.7;proto=https, for=\"[2001:db8::1]:4711\";by=10.0.0.1",
            ),
        ]);
        // A proxy appending X-Forwarded-For passes the client's own Forwarded through.
        let xff = proxies(&["10.0.0.0/8"]);
        assert_eq!(xff.client_of(ip("10.0.0.2"), &h), ip("198.51.100.4"));
        let rfc7239 = proxies_writing(&["10.0.0.0/8"], ForwardedHeader::Forwarded);
        assert_eq!(rfc7239.client_of(ip("10.0.0.2"), &h), ip("2001:db8::1"));
        let h = headers(&[("forwarded", "for=198.51.100.4:8080")]);
        assert_eq!(rfc7239.client_of(ip("10.0.0.2"), &h), ip("198.51.100.4"));
        assert_eq!(xff.client_of(ip("10.0.0.2"), &h), ip("10.0.0.2"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(rfc7239.client_of(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_networks() {
        let trusted = proxies(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.4")]);
        assert_eq!(
            trusted.client_of(ip("::ffff:127.0.0.1"), &h),
            ip("198.51.100.4")
        );
    }

    #[test]
    fn settings_are_cidrs_or_addresses() {
        assert!(parse_network("10.0.0.0/8").is_ok());
        assert!(parse_network(" 192.0.2.7 ").is_ok());
        assert!(parse_network("fd00::/8").is_ok());
        assert!(parse_network("10.0.0.0/33").is_err());
        assert!(parse_network("proxy.internal").is_err());
    }
}
