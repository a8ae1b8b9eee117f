//! The client's address, as the login back-off keys it: the socket peer,
//! or, when the peer is a configured trusted proxy, the address that proxy
//! reports in `client_ip_header`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::{Config, IpNet};
use crate::web::AppState;

/// The client's IP address, or `unknown` when the server was not given the
/// peer (tests over the router alone).
pub struct RemoteAddr(pub String);

impl FromRequestParts<AppState> for RemoteAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip());
        let ip = peer.map(|p| client_ip(p, &parts.headers, &state.config));
        Ok(RemoteAddr(
            ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
        ))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy;
/// then, reading the header's addresses from the right (the nearest hop
/// first), the first that is not a trusted proxy. An entry that is no
/// address ends the walk at the last trusted hop.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, cfg: &Config) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = cfg.trusted_proxy_nets().unwrap_or_default();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n: &IpNet| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all(cfg.client_ip_header.as_str())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443` or `192.0.2.1:80`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(trusted: &[&str]) -> Config {
        Config {
            trusted_proxies: trusted.iter().map(|s| (*s).to_owned()).collect(),
            ..Config::default()
        }
    }

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().expect("header"));
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect(s)
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_proxy() {
        let h = xff("203.0.113.9");
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &cfg(&[])), ip("10.0.0.2"));
        assert_eq!(
            client_ip(ip("192.0.2.1"), &h, &cfg(&["10.0.0.0/8"])),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &h, &cfg(&["10.0.0.0/8"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_forged_left_part_of_the_header_is_ignored() {
        // The client sent "1.1.1.1" itself; the proxy appended the real peer.
        let h = xff("1.1.1.1, 203.0.113.9, 10.0.0.3");
        let c = cfg(&["10.0.0.0/8"]);
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &c), ip("203.0.113.9"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff("junk, 10.0.0.3"), &c),
            ip("10.0.0.3"),
            "garbage stops the walk at the last trusted hop"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &c),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &xff("[2001:db8::7]:5000"), &c),
            ip("2001:db8::7")
        );
    }
}
