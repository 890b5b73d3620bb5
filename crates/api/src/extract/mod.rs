//! Extractors: the JSON body (size-limited, syntax checked before authentication, schema
//! checked after, as the reference orders them), the authenticated user, the client IP.

mod auth;
mod client_ip;
mod json;

pub use auth::{AuthUser, authenticate};
pub use client_ip::{ClientIp, TrustedProxies};
pub use json::JsonBody;
