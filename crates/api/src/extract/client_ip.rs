//! The client's IP, for per-IP limits: the socket peer, or (only when the deployment says a
//! trusted proxy sets it) the last `X-Forwarded-For` address, the one that proxy appended.
//! Earlier entries come from the client and could be anything.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::ApiError;
use crate::state::ApiState;

/// The client address as text.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let trust_proxy = request
            .app_data::<web::Data<ApiState>>()
            .is_some_and(|s| s.settings.trust_proxy_headers);
        let info = request.connection_info();
        let address = if trust_proxy {
            info.realip_remote_addr()
        } else {
            info.peer_addr()
        };
        let ip = address.map_or_else(|| "unknown".to_owned(), |a| strip_port(a).to_owned());
        ready(Ok(Self(ip)))
    }
}

fn strip_port(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') => host,
        _ => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_stripped_from_v4_and_v6() {
        assert_eq!(strip_port("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:5000"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("10.0.0.1"), "10.0.0.1");
    }
}
