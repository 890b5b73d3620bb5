//! The client's address, for per-IP limits. By default it is the socket peer. With
//! `trust_proxy_headers` set, and only when the peer is one of the trusted proxies, the
//! forwarding chain is read (`Forwarded`, RFC 7239, when present; else `X-Forwarded-For`)
//! from the right: each trusted proxy appended the address it saw, so the rightmost entry
//! that is not a trusted proxy is the client. Entries further left were written by the client
//! and could be anything, so a forged first entry changes nothing. An entry that is not an
//! address (`unknown`, an obfuscated identifier, garbage) stops the walk at the hop that
//! wrote it.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::ApiState;

/// The client address as text.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses networks (`10.0.0.0/8`) and single addresses (`192.0.2.1`, `::1`).
    ///
    /// # Errors
    /// The first entry that is neither, for a configuration error naming it.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not a network or an address"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client behind `peer`, given the request's forwarding headers (each header value
    /// in order of appearance).
    #[must_use]
    pub fn client(&self, peer: IpAddr, forwarded: &[&str], x_forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain: Vec<&str> = if forwarded.is_empty() {
            x_forwarded_for
                .iter()
                .flat_map(|value| value.split(','))
                .map(str::trim)
                .collect()
        } else {
            forwarded
                .iter()
                .flat_map(|value| forwarded_for(value))
                .collect()
        };
        let mut client = peer;
        for entry in chain.iter().rev() {
            let Some(address) = parse_node(entry) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as the IPv4 address they carry.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// The `for=` values of a `Forwarded` header, left to right.
fn forwarded_for(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter_map(|element| {
        element.split(';').find_map(|pair| {
            let (key, node) = pair.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("for")
                .then(|| node.trim().trim_matches('"'))
        })
    })
}

/// A node as written in either header: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`; `None` for anything else.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (address, _) = rest.split_once(']')?;
        return address.parse::<IpAddr>().ok().map(canonical);
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(peer) = request.peer_addr().map(|peer| peer.ip()) else {
            return ready(Ok(Self("unknown".to_owned())));
        };
        let state = request.app_data::<web::Data<ApiState>>();
        let client = match state {
            Some(state) if state.settings.trust_proxy_headers => {
                let values = |name: &str| -> Vec<&str> {
                    request
                        .headers()
                        .get_all(name)
                        .filter_map(|value| value.to_str().ok())
                        .collect()
                };
                state
                    .trusted_proxies
                    .client(peer, &values("forwarded"), &values("x-forwarded-for"))
            }
            _ => canonical(peer),
        };
        ready(Ok(Self(client.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback() -> TrustedProxies {
        TrustedProxies::parse(&["127.0.0.0/8".into(), "::1/128".into()]).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_forged_first_entry_changes_nothing() {
        let trusted = loopback();
        for forged in ["1.1.1.1", "2.2.2.2, 3.3.3.3", "garbage", ""] {
            let header = if forged.is_empty() {
                "9.9.9.9".to_owned()
            } else {
                format!("{forged}, 9.9.9.9")
            };
            assert_eq!(
                trusted.client(ip("127.0.0.1"), &[], &[&header]),
                ip("9.9.9.9"),
                "{header}"
            );
        }
    }

    #[test]
    fn several_trusted_proxies_are_skipped_from_the_right() {
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            trusted.client(
                ip("127.0.0.1"),
                &[],
                &["6.6.6.6, 9.9.9.9, 10.1.2.3, 10.0.0.7"]
            ),
            ip("9.9.9.9")
        );
        // Repeated headers are one list, in order.
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &[], &["6.6.6.6, 9.9.9.9", "10.0.0.7"]),
            ip("9.9.9.9")
        );
        // Every hop trusted: the leftmost is the client.
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &[], &["10.0.0.1, 10.0.0.2"]),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        assert_eq!(
            loopback().client(ip("203.0.113.9"), &["for=1.2.3.4"], &["1.2.3.4"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_says_and_wins_over_x_forwarded_for() {
        let trusted = loopback();
        let header = r#"for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";by=127.0.0.1"#;
        assert_eq!(
            trusted.client(ip("::1"), &[header], &["5.5.5.5"]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &["For=\"198.51.100.17:8080\""], &[]),
            ip("198.51.100.17")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_hop_that_wrote_it() {
        let trusted = loopback();
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &[], &["9.9.9.9, not-an-ip"]),
            ip("127.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &["for=unknown"], &[]),
            ip("127.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &["for=_hidden, for=9.9.9.9"], &[]),
            ip("9.9.9.9")
        );
    }

    #[test]
    fn ipv6_and_mapped_ipv4_are_understood() {
        let trusted = loopback();
        assert_eq!(
            trusted.client(ip("::ffff:127.0.0.1"), &[], &["2001:db8::1"]),
            ip("2001:db8::1")
        );
        assert_eq!(
            trusted.client(ip("::1"), &[], &["::ffff:9.9.9.9"]),
            ip("9.9.9.9")
        );
        assert!(TrustedProxies::parse(&["nonsense".into()]).is_err());
    }
}
