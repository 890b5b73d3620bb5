//! Test support (feature `testing`): a scratch PostgreSQL database per test, created on the
//! server named by `LIA_TEST_DATABASE_URL`, so tests run in parallel without sharing state.
//! Databases a crashed test left behind are dropped after an hour.
//!
//! `LIA_TEST_POOLER_URL` names a transaction-mode pooler (PgBouncer's `pool_mode =
//! transaction`) in front of that server that passes any database name through:
//! [`ScratchDatabase::create_behind_pooler`] creates the database on the server and reaches
//! it through the pooler, migrating directly, as a scaled-out deployment does.
#![expect(
    clippy::expect_used,
    reason = "test support: an unreachable test server should fail loudly"
)]

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// The environment variable naming the test server (any database on it).
pub const TEST_DATABASE_URL: &str = "LIA_TEST_DATABASE_URL";
/// The environment variable naming a transaction-mode pooler in front of the test server.
pub const TEST_POOLER_URL: &str = "LIA_TEST_POOLER_URL";

fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

/// A scratch database; call [`ScratchDatabase::drop_database`] when done.
#[derive(Debug, Clone)]
pub struct ScratchDatabase {
    /// Its URL, through the pooler when there is one.
    pub url: String,
    /// Its URL on PostgreSQL itself, when `url` goes through a pooler.
    pub migration_url: Option<String>,
    /// What `url` points at.
    pub pooler: crate::Pooler,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// A new empty database on the test server, or `None` when `LIA_TEST_DATABASE_URL` is unset.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be reached or refuses.
    pub async fn create() -> Option<Self> {
        Self::create_on(variable(TEST_DATABASE_URL)?, None).await
    }

    /// A new empty database on the test server, reached through the transaction-mode pooler
    /// at `LIA_TEST_POOLER_URL`; `None` unless both variables are set.
    ///
    /// # Panics
    /// When the variables are set but the server cannot be reached or refuses.
    pub async fn create_behind_pooler() -> Option<Self> {
        let direct = variable(TEST_DATABASE_URL)?;
        Self::create_on(variable(TEST_POOLER_URL)?, Some(direct)).await
    }

    async fn create_on(url: String, direct: Option<String>) -> Option<Self> {
        let pooler = if direct.is_some() {
            crate::Pooler::Transaction
        } else {
            crate::Pooler::None
        };
        let admin_url = direct.clone().unwrap_or_else(|| url.clone());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!("lia_test_{now}_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .expect("the test database server must be reachable");
        drop_stale(&admin, now).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        Some(Self {
            url: with_database(&url, &name),
            migration_url: direct.map(|direct| with_database(&direct, &name)),
            pooler,
            admin_url,
            name,
        })
    }

    /// Its URL on PostgreSQL itself: for a test's own queries and for migrations.
    #[must_use]
    pub fn direct_url(&self) -> &str {
        self.migration_url.as_deref().unwrap_or(&self.url)
    }

    /// Settings that reach it as an app would: through the pooler, migrating directly.
    #[must_use]
    pub fn store_config(&self) -> crate::StoreConfig {
        crate::StoreConfig {
            database_url: Some(self.url.clone().into()),
            migration_url: self.migration_url.clone().map(Into::into),
            pooler: self.pooler,
            ..crate::StoreConfig::default()
        }
    }

    /// Drops the database, closing whatever still uses it.
    pub async fn drop_database(self) {
        if let Ok(admin) = Database::connect(&self.admin_url).await {
            let _ = admin
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .await;
            let _ = admin.close().await;
        }
    }
}

/// Drops test databases over an hour old: left behind by a test that panicked.
async fn drop_stale(admin: &DatabaseConnection, now: u64) {
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'lia_test_%'",
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name
            .split('_')
            .nth(2)
            .and_then(|secs| secs.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > 3_600 {
            // Another process may be dropping it too; either way it goes.
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// `url` pointing at `database` instead of the one it names.
#[must_use]
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base
        .get(scheme_end..)
        .and_then(|rest| rest.find('/'))
        .map_or(base.len(), |i| scheme_end + i);
    let mut result = format!("{}/{database}", base.get(..host_end).unwrap_or(base));
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_rewritten() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}

/// A migrated SQLite database in a temporary directory of its own, removed when this is
/// dropped: the in-process twin of [`ScratchDatabase`], for tests of the crates above.
#[derive(Debug)]
pub struct ScratchSqlite {
    /// The open, migrated database.
    pub database: crate::Database,
    _dir: tempfile::TempDir,
}

impl ScratchSqlite {
    /// A fresh database.
    ///
    /// # Panics
    /// When the temporary directory or the database cannot be made.
    pub async fn create() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database = crate::Database::open(&crate::StoreConfig {
            sqlite_path: dir.path().join("lia.db").display().to_string(),
            ..crate::StoreConfig::default()
        })
        .await
        .expect("a SQLite database");
        database.migrate().await.expect("migrations");
        Self {
            database,
            _dir: dir,
        }
    }
}
