//! Accounts.

use std::fmt;

use time::OffsetDateTime;

use crate::ids::UserId;
use crate::values::{Email, Username};

/// A registered user, as the API shows them (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// Their normalised email.
    pub email: Email,
    /// Their username.
    pub username: Username,
    /// When they registered.
    pub created_at: OffsetDateTime,
}

/// A password hash in PHC string form (argon2id) or a legacy bcrypt hash.
/// Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// What login needs: the user and their stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// Their stored hash.
    pub password_hash: PasswordHash,
}

/// A user about to be registered.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Their normalised email.
    pub email: Email,
    /// Their username.
    pub username: Username,
    /// The hash of their chosen password.
    pub password_hash: PasswordHash,
}
