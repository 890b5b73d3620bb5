//! One writer at a time on SQLite. SQLite allows a single writer; concurrent writers wait in
//! its busy handler, which sleeps in growing steps (up to 100 ms), so under load a write can
//! wait far longer than the write itself. Queueing writers on an async mutex instead hands the
//! lock over the moment it is free. PostgreSQL needs no gate.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{Mutex, MutexGuard};

/// Serialises writes on SQLite; does nothing on other databases.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteGate(Option<Arc<Mutex<()>>>);

impl WriteGate {
    pub(crate) fn for_connection(connection: &DatabaseConnection) -> Self {
        Self(
            (connection.get_database_backend() == DbBackend::Sqlite)
                .then(|| Arc::new(Mutex::new(()))),
        )
    }

    /// Waits for the gate; the write may proceed while the guard lives.
    pub(crate) async fn enter(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.0 {
            Some(mutex) => Some(mutex.lock().await),
            None => None,
        }
    }
}
