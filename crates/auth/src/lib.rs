#![doc = include_str!("../README.md")]

pub mod accounts;
mod error;
pub mod password;
pub mod profiles;
pub mod tokens;

pub use accounts::{AccountError, Accounts, Session};
pub use error::AuthError;
pub use password::{HashingConfig, PasswordHasher, Verification};
pub use profiles::{ProfileCache, ProfileCacheConfig};
pub use tokens::{IssuedToken, JwtAlgorithm, TokenError, TokenService};
