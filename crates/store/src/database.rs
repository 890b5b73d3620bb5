//! The database a service uses: a pool for reads and one write path.
//!
//! On SQLite the write path is a pool of exactly one connection. SQLite admits one writer at
//! a time anyway; giving every write (users and conversations alike) the same connection
//! queues writers fairly on the pool instead of in SQLite's sleeping busy handler, keeps that
//! connection's page cache warm (a write on another connection would invalidate it), and
//! bounds the wait for it by the pool's acquire timeout (`sqlite_write_wait_ms`), which
//! reports [`RepositoryError::Unavailable`](lia_domain::RepositoryError) rather than waiting
//! without limit. On PostgreSQL both paths are the same pool.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbBackend};
use uuid::Uuid;

use crate::connect::{StoreConfig, connect_with};
use crate::error::StoreError;
use crate::{SqlConversationRepository, SqlUserRepository};

/// Reads and writes of one database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Database {
    reads: DatabaseConnection,
    writes: DatabaseConnection,
    /// Whether both paths are the same pool.
    shared: bool,
}

impl Database {
    /// Opens the pools described by `config`.
    ///
    /// # Errors
    /// [`StoreError::Connect`] when the database cannot be opened.
    pub async fn open(config: &StoreConfig) -> Result<Self, StoreError> {
        let reads = connect_with(config, config.max_connections, None).await?;
        if reads.get_database_backend() != DbBackend::Sqlite {
            return Ok(Self::from_connection(reads));
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
        })
    }

    /// A database whose reads and writes share `connection` (for tools and tests).
    #[must_use]
    pub fn from_connection(connection: DatabaseConnection) -> Self {
        Self {
            reads: connection.clone(),
            writes: connection,
            shared: true,
        }
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

    /// Applies every pending migration on the write path.
    ///
    /// # Errors
    /// [`StoreError::Migrate`] when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        crate::connect::migrate(&self.writes).await
    }

    /// The random id this database was given when its schema was created: cache keys carry
    /// it, so a cache never answers for another database.
    ///
    /// # Errors
    /// [`StoreError::Query`] when it cannot be read (the schema is not migrated).
    pub async fn identity(&self) -> Result<Uuid, StoreError> {
        use sea_orm::EntityTrait;
        crate::entities::identity::Entity::find()
            .one(&self.reads)
            .await
            .map_err(StoreError::Query)?
            .map(|row| row.id)
            .ok_or_else(|| {
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
