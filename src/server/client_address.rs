//! Who the client of a request is, for the per-client sign-in limit. The client is the connection's peer, unless
//! the peer is a trusted proxy (`SignInSettings::trusted_proxies`): then it is the first address in the proxy's
//! header (`X-Forwarded-For` by default), read from the right, that is not a trusted proxy itself. Addresses to
//! the left of it were written by the client and are never believed. An IPv6 client counts as its /64 network,
//! which one subscriber usually holds whole; an IPv4 client as its address.

use std::net::IpAddr;

use axum::http::HeaderMap;
use ipnet::{IpNet, Ipv6Net};

use crate::server::config::SignInSettings;

/// The key the per-client limit counts under for a request from `peer` with `headers`.
pub fn client_key(peer: IpAddr, headers: &HeaderMap, settings: &SignInSettings) -> String {
    let peer = peer.to_canonical();
    let client = if is_trusted(peer, &settings.trusted_proxies) {
        forwarded_client(headers, settings).unwrap_or(peer)
    } else {
        peer
    };
    match client {
        IpAddr::V4(address) => address.to_string(),
        IpAddr::V6(address) => Ipv6Net::new(address, 64)
            .map(|network| network.trunc().to_string())
            .unwrap_or_else(|_| address.to_string()),
    }
}

fn is_trusted(address: IpAddr, trusted_proxies: &[IpNet]) -> bool {
    trusted_proxies
        .iter()
        .any(|network| network.contains(&address))
}

/// The first hop of the header's list, from the right, that is not a trusted proxy. When a hop is not an
/// address, the last trusted proxy before it (nothing further left is believed); when every hop is trusted, the
/// leftmost. `None` without the header.
fn forwarded_client(headers: &HeaderMap, settings: &SignInSettings) -> Option<IpAddr> {
    let hops: Vec<&str> = headers
        .get_all(&settings.client_address_header)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(str::trim)
        .collect();
    let mut last_trusted = None;
    for hop in hops.iter().rev() {
        let Some(address) = parse_hop(hop) else {
            return last_trusted;
        };
        if !is_trusted(address, &settings.trusted_proxies) {
            return Some(address);
        }
        last_trusted = Some(address);
    }
    last_trusted
}

/// An address as proxies write it: bare, or with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn behind(proxies: &[&str]) -> SignInSettings {
        SignInSettings {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..SignInSettings::default()
        }
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn key(peer: &str, headers: &HeaderMap, settings: &SignInSettings) -> String {
        client_key(peer.parse().unwrap(), headers, settings)
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let headers = forwarded(&["198.51.100.9"]);
        assert_eq!(
            key("203.0.113.7", &headers, &SignInSettings::default()),
            "203.0.113.7"
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right() {
        let settings = behind(&["10.0.0.0/8"]);
        let headers = forwarded(&["192.0.2.1, 198.51.100.9", "203.0.113.7, 10.1.2.3"]);
        assert_eq!(key("10.0.0.5", &headers, &settings), "203.0.113.7");
        assert_eq!(
            key("10.0.0.5", &HeaderMap::new(), &settings),
            "10.0.0.5",
            "no header: the peer"
        );
        assert_eq!(
            key("203.0.113.8", &headers, &settings),
            "203.0.113.8",
            "the header of an untrusted peer is ignored"
        );
    }

    #[test]
    fn a_hop_that_is_no_address_stops_the_walk_at_the_last_trusted_proxy() {
        let settings = behind(&["10.0.0.0/8"]);
        assert_eq!(
            key(
                "10.0.0.5",
                &forwarded(&["203.0.113.7, junk, 10.1.2.3"]),
                &settings
            ),
            "10.1.2.3"
        );
        assert_eq!(
            key("10.0.0.5", &forwarded(&["10.9.9.9, 10.1.2.3"]), &settings),
            "10.9.9.9"
        );
        assert_eq!(
            key("10.0.0.5", &forwarded(&["[2001:db8::1]:4711"]), &settings),
            "2001:db8::/64"
        );
    }

    #[test]
    fn ipv6_clients_count_per_64_network_and_mapped_ipv4_as_ipv4() {
        let settings = SignInSettings::default();
        let none = HeaderMap::new();
        assert_eq!(
            key("2001:db8:1:2:aaaa::1", &none, &settings),
            key("2001:db8:1:2:bbbb::9", &none, &settings)
        );
        assert_ne!(
            key("2001:db8:1:2::1", &none, &settings),
            key("2001:db8:1:3::1", &none, &settings)
        );
        assert_eq!(key("::ffff:203.0.113.7", &none, &settings), "203.0.113.7");
    }
}
