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
    /// Behind a transaction-mode pooler, migrations need a connection with a session.
    #[error(
        "database.pooler is \"transaction\": set database.migration_url (DATABASE_MIGRATION_URL) to PostgreSQL itself or a session-mode pooler, where migrations run"
    )]
    MigrationUrlRequired,
    /// A query failed.
    #[error("database query failed")]
    Query(#[source] DbErr),
}

/// Classifies a driver error: unique violations are conflicts, connection failures and
/// cancelled or timed-out statements are unavailability (a restart or an overload, worth a
/// retry), everything else is a plain failure.
pub(crate) fn repository_error(error: DbErr) -> RepositoryError {
    if let Some(SqlErr::UniqueConstraintViolation(_)) = error.sql_err() {
        return RepositoryError::Conflict("an account with this email or username already exists");
    }
    if is_transient(&error) {
        return RepositoryError::Unavailable(Box::new(error));
    }
    match error {
        DbErr::RecordNotFound(_) | DbErr::RecordNotUpdated => RepositoryError::NotFound,
        other => RepositoryError::Other(Box::new(other)),
    }
}

/// Like [`repository_error`], for writes that reference the acting user: a foreign-key
/// failure means that user no longer exists.
pub(crate) fn user_write_error(error: DbErr) -> RepositoryError {
    if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = error.sql_err() {
        return RepositoryError::UserGone;
    }
    repository_error(error)
}

/// PostgreSQL error classes that mean "try again": 08 connection exceptions, 57 operator
/// intervention (57014 statement timeout, 57P01 admin shutdown, 57P03 cannot connect now),
/// 53 insufficient resources, 40001/40P01 serialization failure and deadlock.
fn is_transient(error: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match &**inner {
                sea_orm::sqlx::Error::Database(database) => {
                    let code = database.code().unwrap_or_default();
                    ["08", "57", "53"].iter().any(|class| code.starts_with(class))
                        || code == "40001"
                        || code == "40P01"
                        // SQLite: busy or locked past the busy timeout.
                        || code == "5"
                        || code == "6"
                }
                sea_orm::sqlx::Error::Io(_)
                | sea_orm::sqlx::Error::PoolTimedOut
                | sea_orm::sqlx::Error::PoolClosed
                | sea_orm::sqlx::Error::WorkerCrashed => true,
                _ => false,
            }
        }
        _ => false,
    }
}

/// A stored value that does not decode into its domain type.
pub(crate) fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> RepositoryError {
    RepositoryError::Other(format!("corrupt stored {what}: {detail}").into())
}
