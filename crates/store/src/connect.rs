//! Opening the database: PostgreSQL from a URL, or a SQLite file in WAL mode with foreign
//! keys enforced, with pool settings from [`StoreConfig`].

use std::time::Duration;

use lia_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Database settings. Defaults suit one server process on a small machine; see the crate
/// README for sizing a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    /// `postgres://...` or `sqlite://...`; when unset, the SQLite file at `sqlite_path`.
    pub database_url: Option<lia_domain::SecretUrl>,
    /// Where migrations run (`DATABASE_MIGRATION_URL`): a connection with a session of its
    /// own, PostgreSQL itself or a session-mode pooler. Defaults to `database_url`; required
    /// when `pooler` is `transaction`, since migrations hold a session lock.
    pub migration_url: Option<lia_domain::SecretUrl>,
    /// What sits between Lia and PostgreSQL: `none` (PostgreSQL itself, or a session-mode
    /// pooler) or `transaction` (PgBouncer's `pool_mode = transaction` and its kin), where
    /// every unit of work is a transaction and no prepared statement outlives it.
    pub pooler: crate::Pooler,
    /// The SQLite file used when no URL is set, created if missing.
    pub sqlite_path: String,
    /// Most pooled connections.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a query may wait for a free connection before failing as unavailable.
    pub acquire_timeout_secs: u64,
    /// How long an idle connection above `min_connections` is kept.
    pub idle_timeout_secs: u64,
    /// How long SQLite waits on a database locked by another process before giving up.
    pub sqlite_busy_timeout_secs: u64,
    /// How long a write waits for SQLite's one write connection before failing as
    /// unavailable (503).
    pub sqlite_write_wait_ms: u64,
    /// PostgreSQL's `statement_timeout` for every statement, in milliseconds (0: none). A
    /// statement that runs longer is cancelled and reported as unavailable (503). Sent as a
    /// connection option, or with `pooler = "transaction"` as `SET LOCAL` at the start of
    /// every transaction.
    pub statement_timeout_ms: u64,
    /// Log every statement at debug level.
    pub log_statements: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            database_url: None,
            migration_url: None,
            pooler: crate::Pooler::None,
            sqlite_path: "lia.db".to_owned(),
            max_connections: 10,
            min_connections: 1,
            acquire_timeout_secs: 5,
            idle_timeout_secs: 300,
            sqlite_busy_timeout_secs: 5,
            sqlite_write_wait_ms: 5_000,
            statement_timeout_ms: 10_000,
            log_statements: false,
        }
    }
}

impl StoreConfig {
    /// The URL to connect to: `database_url`, or the SQLite file.
    #[must_use]
    pub fn url(&self) -> String {
        self.database_url
            .as_ref()
            .map(|url| url.expose().to_owned())
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", self.sqlite_path))
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    #[must_use]
    pub fn masked_url(&self) -> String {
        lia_domain::urls::masked(&self.url())
    }

    fn connect_options(
        &self,
        max_connections: u32,
        acquire_timeout: Option<Duration>,
    ) -> ConnectOptions {
        let mut options = ConnectOptions::new(self.url());
        let busy_timeout = Duration::from_secs(self.sqlite_busy_timeout_secs);
        let statement_timeout = self.statement_timeout_ms;
        let pooled = self.pooler == crate::Pooler::Transaction;
        options
            .max_connections(max_connections)
            .min_connections(self.min_connections.min(max_connections))
            .acquire_timeout(
                acquire_timeout.unwrap_or(Duration::from_secs(self.acquire_timeout_secs)),
            )
            .idle_timeout(Duration::from_secs(self.idle_timeout_secs))
            .sqlx_logging(self.log_statements)
            .map_sqlx_sqlite_opts(move |sqlite| {
                sqlite
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(busy_timeout)
            })
            .map_sqlx_postgres_opts(move |postgres| {
                if pooled {
                    // No prepared statement survives a transaction (see `session`), and no
                    // startup parameter a pooler would refuse: the timeout is `SET LOCAL`.
                    postgres
                        .statement_cache_capacity(0)
                        .extra_float_digits(None)
                } else if statement_timeout == 0 {
                    postgres
                } else {
                    postgres.options([("statement_timeout", format!("{statement_timeout}ms"))])
                }
            });
        options
    }
}

/// Opens one pool described by `config` (for tools; a service opens a [`crate::Database`]).
///
/// # Errors
/// [`StoreError::Connect`] when the database cannot be opened.
pub async fn connect(config: &StoreConfig) -> Result<DatabaseConnection, StoreError> {
    connect_with(config, config.max_connections, None).await
}

/// Opens a pool of at most `max_connections`, waiting up to `acquire_timeout` (or the
/// configured one) for a connection.
pub(crate) async fn connect_with(
    config: &StoreConfig,
    max_connections: u32,
    acquire_timeout: Option<Duration>,
) -> Result<DatabaseConnection, StoreError> {
    Database::connect(config.connect_options(max_connections, acquire_timeout))
        .await
        .map_err(|source| StoreError::Connect {
            target: config.masked_url(),
            source,
        })
}

/// Applies every pending migration (adopting a reference database, see `lia-migration`).
///
/// # Errors
/// [`StoreError::Migrate`] when a migration fails.
pub async fn migrate(connection: &DatabaseConnection) -> Result<(), StoreError> {
    Migrator::up(connection, None)
        .await
        .map_err(StoreError::Migrate)
}

/// The pool's open and idle connections, for the database pool metric.
#[must_use]
pub fn pool_usage(connection: &DatabaseConnection) -> (u32, usize) {
    // The pool getters panic on the other backend, so ask which backend this is first.
    match connection.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = connection.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = connection.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_a_sqlite_file() {
        assert_eq!(StoreConfig::default().url(), "sqlite://lia.db?mode=rwc");
    }
}
