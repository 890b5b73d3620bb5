//! The database a service uses: a pool for reads and one write path.
//!
//! On SQLite the write path is a pool of exactly one connection. SQLite admits one writer at
//! a time anyway; giving every write (users and conversations alike) the same connection
//! queues writers fairly on the pool instead of in SQLite's sleeping busy handler, keeps that
//! connection's page cache warm (a write on another connection would invalidate it), and
//! bounds the wait for it by the pool's acquire timeout (`sqlite_write_wait_ms`), which
//! reports [`RepositoryError::Unavailable`](lia_domain::RepositoryError) rather than waiting
//! without limit. On PostgreSQL both paths are the same pool.
//!
//! Repositories run their work in a [`Session`]: the pool itself, or behind a
//! transaction-mode pooler a transaction that pins one server (see [`crate::session`]).
//! Migrations run on their own connection (`migration_url`), under a lock, so that several
//! instances starting together migrate once.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend};
use uuid::Uuid;

use crate::connect::{StoreConfig, connect_with};
use crate::error::{StoreError, repository_error};
use crate::session::{Pooler, Session};
use crate::{SqlConversationRepository, SqlUserRepository};

/// Reads and writes of one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    reads: DatabaseConnection,
    writes: DatabaseConnection,
    /// Whether both paths are the same pool.
    shared: bool,
    /// The settings it was opened with (pooler, timeouts, where migrations run).
    config: StoreConfig,
}

/// The PostgreSQL advisory lock that serialises migrations across instances (any constant
/// no other application on the database uses: "lia_migr" in ASCII).
const MIGRATION_LOCK: i64 = 0x6c69_615f_6d69_6772;

impl Database {
    /// Opens the pools described by `config`.
    ///
    /// # Errors
    /// [`StoreError::Connect`] when the database cannot be opened.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        let reads = connect_with(config, config.max_connections, None).await?;
        if reads.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self {
                config: config.clone(),
                ..Self::from_connection(reads)
            });
        }
        let writes = connect_with(
            config,
            1,
            Some(Duration::from_millis(config.sqlite_write_wait_ms.max(1))),
        )
        .await?;
        Ok(Self {
            reads,
            writes,
            shared: false,
            config: config.clone(),
        })
    }

    /// A database whose reads and writes share `connection` (for tools and tests).
    #[must_use]
    pub fn from_connection(connection: DatabaseConnection) -> Self {
        Self {
            reads: connection.clone(),
            writes: connection,
            shared: true,
            config: StoreConfig::default(),
        }
    }

    /// A unit of work on the read pool; end it with [`Session::end`].
    pub(crate) async fn read_session(&self) -> Result<Session<'_>, lia_domain::RepositoryError> {
        Session::open(
            &self.reads,
            self.config.pooler,
            self.config.statement_timeout_ms,
        )
        .await
        .map_err(repository_error)
    }

    /// A unit of work on the write path; end it with [`Session::end`].
    pub(crate) async fn write_session(&self) -> Result<Session<'_>, lia_domain::RepositoryError> {
        Session::open(
            &self.writes,
            self.config.pooler,
            self.config.statement_timeout_ms,
        )
        .await
        .map_err(repository_error)
    }

    /// A transaction on the write path, ready for work behind the configured pooler.
    pub(crate) async fn begin_writes(
        &self,
    ) -> Result<DatabaseTransaction, lia_domain::RepositoryError> {
        crate::session::begin(
            &self.writes,
            self.config.pooler,
            self.config.statement_timeout_ms,
        )
        .await
        .map_err(repository_error)
    }

    /// Calls `callback` after every statement on either path (statement counts in tests,
    /// query metrics).
    pub fn set_metric_callback<F>(&mut self, callback: F)
    where
        F: Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
    {
        let callback = std::sync::Arc::new(callback);
        let on_reads = std::sync::Arc::clone(&callback);
        self.reads.set_metric_callback(move |info| on_reads(info));
        if self.shared {
            self.writes = self.reads.clone();
        } else {
            self.writes.set_metric_callback(move |info| callback(info));
        }
    }

    /// The pool for reads.
    #[must_use]
    pub fn reads(&self) -> &DatabaseConnection {
        &self.reads
    }

    /// The write path (on SQLite, its single connection).
    #[must_use]
    pub fn writes(&self) -> &DatabaseConnection {
        &self.writes
    }

    /// Which database this is, for logs and metrics: `postgresql` or `sqlite`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.reads.get_database_backend() {
            DbBackend::Postgres => "postgresql",
            _ => "sqlite",
        }
    }

    /// The users repository.
    #[must_use]
    pub fn users(&self) -> SqlUserRepository {
        SqlUserRepository::new(self.clone())
    }

    /// The conversations repository.
    #[must_use]
    pub fn conversations(&self) -> SqlConversationRepository {
        SqlConversationRepository::new(self.clone())
    }

    /// The usage ledger and quota overrides.
    #[must_use]
    pub fn usage(&self) -> crate::SqlUsageRepository {
        crate::SqlUsageRepository::new(self.clone())
    }

    /// Applies every pending migration. On PostgreSQL it runs on one connection of its own
    /// to `migration_url` (or `database_url`), holding an advisory lock, so that instances
    /// starting together migrate once: the others wait for the lock, then find nothing to
    /// do. On SQLite it runs on the write path.
    ///
    /// # Errors
    /// [`StoreError::Connect`] when the migration connection cannot be opened,
    /// [`StoreError::Migrate`] when a migration fails, [`StoreError::MigrationUrlRequired`]
    /// behind a transaction-mode pooler without a `migration_url`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.writes.get_database_backend() != DbBackend::Postgres {
            return crate::connect::migrate(&self.writes).await;
        }
        let url = match (&self.config.migration_url, self.config.pooler) {
            (Some(url), _) => url.clone(),
            (None, Pooler::None) => match &self.config.database_url {
                Some(url) => url.clone(),
                // Built from a connection (tests, tools): its pool is the only path.
                None => return crate::connect::migrate(&self.writes).await,
            },
            (None, Pooler::Transaction) => return Err(StoreError::MigrationUrlRequired),
        };
        let config = StoreConfig {
            database_url: Some(url),
            pooler: Pooler::None,
            min_connections: 0,
            ..self.config.clone()
        };
        // One connection: the lock, the migrations and the unlock share its session.
        let connection = connect_with(&config, 1, None).await?;
        let outcome = migrate_locked(&connection).await;
        let _ = connection.close().await;
        outcome
    }

    /// The random id this database was given when its schema was created: cache keys carry
    /// it, so a cache never answers for another database.
    ///
    /// # Errors
    /// [`StoreError::Query`] when it cannot be read (the schema is not migrated).
    pub async fn identity(&self) -> Result<Uuid, StoreError> {
        use sea_orm::EntityTrait;
        let session = Session::open(
            &self.reads,
            self.config.pooler,
            self.config.statement_timeout_ms,
        )
        .await
        .map_err(StoreError::Query)?;
        let row = crate::entities::identity::Entity::find()
            .one(&session)
            .await
            .map_err(StoreError::Query)?;
        session.commit().await.map_err(StoreError::Query)?;
        row.map(|row| row.id).ok_or_else(|| {
            StoreError::Query(sea_orm::DbErr::RecordNotFound(
                "lia_identity holds no row".into(),
            ))
        })
    }

    /// Closes both pools.
    pub async fn close(&self) {
        if !self.shared {
            let _ = self.writes.clone().close().await;
        }
        let _ = self.reads.clone().close().await;
    }
}

/// Migrates on `connection` (a pool of one) while holding [`MIGRATION_LOCK`]. The lock is a
/// session lock: should this process die, PostgreSQL releases it with the connection.
async fn migrate_locked(connection: &DatabaseConnection) -> Result<(), StoreError> {
    let lock = |sql: &'static str| async move {
        connection
            .execute_unprepared(&format!("{sql}({MIGRATION_LOCK})"))
            .await
            .map_err(StoreError::Migrate)
    };
    lock("SELECT pg_advisory_lock").await?;
    let outcome = crate::connect::migrate(connection).await;
    lock("SELECT pg_advisory_unlock").await?;
    outcome
}
