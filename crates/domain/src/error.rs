//! Domain errors: validation failures of value types and the failure kinds every port reports.

use std::error::Error as StdError;

/// A value failed its construction rules; `field` names the input and `reason` says why,
/// in words fit for an end user. The rejected input itself is never included.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    /// The input field, as the HTTP layer names it (`email`, `password`, `title` ...).
    pub field: &'static str,
    /// A readable reason, e.g. "must be at least 8 characters".
    pub reason: String,
}

impl ValidationError {
    /// A validation failure of `field` for `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The boxed cause carried by infrastructure failures.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What can go wrong behind a repository port. Adapters convert their own errors into these
/// kinds so callers can react (404, 409, 503) without knowing the storage technology.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// The row does not exist, or belongs to another user (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated, e.g. an email that is already registered.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The user the operation acts for no longer exists (a foreign key to `users` failed).
    #[error("user no longer exists")]
    UserGone,
    /// The store could not be reached or timed out; retrying later may succeed.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// Any other storage failure (a bug, corrupt data, a violated invariant).
    #[error("storage failure")]
    Other(#[source] BoxError),
}
