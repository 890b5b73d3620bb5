//! Store errors and their mapping onto the domain's repository error kinds.

use lia_domain::RepositoryError;
use sea_orm::{DbErr, SqlErr};

/// What can fail while connecting to or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot connect to the database at {target}")]
    Connect {
        /// The database, with any password masked.
        target: String,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
    /// A migration failed.
    #[error("database migration failed")]
    Migrate(#[source] DbErr),
    /// A query failed.
    #[error("database query failed")]
    Query(#[source] DbErr),
}

/// Classifies a driver error: unique violations are conflicts, connection failures are
/// unavailability, everything else is a plain failure.
pub(crate) fn repository_error(error: DbErr) -> RepositoryError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
        return RepositoryError::Conflict("an account with this email or username already exists");
    }
    match error {
        DbErr::RecordNotFound(_) | DbErr::RecordNotUpdated => RepositoryError::NotFound,
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
            RepositoryError::Unavailable(Box::new(error))
        }
        other => RepositoryError::Other(Box::new(other)),
    }
}

/// A stored value that does not decode into its domain type.
pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Other(format!("corrupt stored {what}: {detail}").into())
}
