//! Errors of the accounts crate.

/// What can go wrong in hashing, tokens or account rules.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Invalid configuration (e.g. Argon2 parameters out of range, a short JWT secret).
    #[error("invalid auth configuration: {0}")]
    Config(String),
    /// Hashing could not run.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}
