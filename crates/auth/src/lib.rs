#![doc = include_str!("../README.md")]

mod error;
pub mod password;

pub use error::AuthError;
pub use password::{HashingConfig, PasswordHasher, Verification};
