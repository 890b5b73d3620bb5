//! One unit of database work, safe behind a transaction-mode pooler.
//!
//! A transaction-mode pooler (PgBouncer's `pool_mode = transaction`, the poolers of managed
//! PostgreSQL services) lends a server connection for one transaction and takes it back at
//! the next idle `ReadyForQuery`. The PostgreSQL driver runs a statement as two exchanges
//! (parse, then bind and execute), each ending in a `Sync`, and names its prepared
//! statements `sqlx_s_1`, `sqlx_s_2`, ... per client connection. Outside a transaction the
//! two exchanges can land on different servers, and two clients' `sqlx_s_1` collide on one.
//!
//! So with [`Pooler::Transaction`] every unit of work is an explicit transaction, which pins
//! one server for its duration, and it starts by dropping whatever statements an earlier
//! client left on that server (`DEALLOCATE ALL`) and by setting the statement timeout for
//! itself only (`SET LOCAL`). The driver's statement cache is off, so nothing it believes
//! prepared outlives the transaction. Nothing else in Lia uses session state: no advisory
//! lock outside migrations (which run on their own session-capable connection), no
//! `LISTEN`, no temporary table, no `SET` without `LOCAL`.
//!
//! Without a pooler a session is the pool itself and costs nothing.

use lia_domain::RepositoryError;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::error::repository_error;

/// What sits between Lia and PostgreSQL (ignored on SQLite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooler {
    /// PostgreSQL itself, or a pooler in session mode: a client connection is one server
    /// session, so prepared statements are cached per connection.
    #[default]
    None,
    /// A pooler in transaction mode: every unit of work is a transaction, with no prepared
    /// statement or setting outliving it.
    Transaction,
}

/// Where a unit of work runs: the pool, or a transaction that pins one pooled server.
pub(crate) enum Session<'a> {
    /// Straight on the pool (no pooler, or SQLite).
    Pool(&'a DatabaseConnection),
    /// In a transaction prepared by [`begin`].
    Pinned(DatabaseTransaction),
}

impl<'a> Session<'a> {
    /// A session on `connection` for a database behind `pooler`.
    pub(crate) async fn open(
        connection: &'a DatabaseConnection,
        pooler: Pooler,
        statement_timeout_ms: u64,
    ) -> Result<Self, DbErr> {
        if pooled(connection, pooler) {
            Ok(Self::Pinned(
                begin(connection, pooler, statement_timeout_ms).await?,
            ))
        } else {
            Ok(Self::Pool(connection))
        }
    }

    /// Ends the session with the outcome of its work: commits when `outcome` is `Ok`, rolls
    /// back (by dropping the transaction) otherwise.
    pub(crate) async fn end<T>(
        self,
        outcome: Result<T, RepositoryError>,
    ) -> Result<T, RepositoryError> {
        let value = outcome?;
        self.commit().await.map_err(repository_error)?;
        Ok(value)
    }

    /// Commits the pinned transaction, if there is one.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Pool(_) => Ok(()),
            Self::Pinned(transaction) => transaction.commit().await,
        }
    }
}

/// Whether units of work on `connection` must be pinned transactions.
fn pooled(connection: &DatabaseConnection, pooler: Pooler) -> bool {
    pooler == Pooler::Transaction && connection.get_database_backend() == DbBackend::Postgres
}

/// Begins a transaction on `connection`, ready for work behind `pooler`: on PostgreSQL
/// behind a transaction-mode pooler it first drops the statements an earlier client of the
/// same server prepared, and sets this transaction's statement timeout.
pub(crate) async fn begin(
    connection: &DatabaseConnection,
    pooler: Pooler,
    statement_timeout_ms: u64,
) -> Result<DatabaseTransaction, DbErr> {
    let transaction = connection.begin().await?;
    if pooled(connection, pooler) {
        // One simple-protocol message for both: one round trip.
        let mut setup = String::from("DEALLOCATE ALL");
        if statement_timeout_ms > 0 {
            setup.push_str(&format!(
                "; SET LOCAL statement_timeout = {statement_timeout_ms}"
            ));
        }
        transaction.execute_unprepared(&setup).await?;
    }
    Ok(transaction)
}

/// Forwards each call to the pool or the transaction.
macro_rules! forward {
    ($session:expr, $method:ident($($argument:expr),*)) => {
        match $session {
            Session::Pool(connection) => connection.$method($($argument),*).await,
            Session::Pinned(transaction) => transaction.$method($($argument),*).await,
        }
    };
}

#[async_trait::async_trait]
impl ConnectionTrait for Session<'_> {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Self::Pool(connection) => connection.get_database_backend(),
            Self::Pinned(transaction) => transaction.get_database_backend(),
        }
    }
    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        forward!(self, execute_raw(statement))
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        forward!(self, execute_unprepared(sql))
    }
    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        forward!(self, query_one_raw(statement))
    }
    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        forward!(self, query_all_raw(statement))
    }
}
