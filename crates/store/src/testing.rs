//! Test support (feature `testing`): a scratch PostgreSQL database per test, created on the
//! server named by `LIA_TEST_DATABASE_URL`, so tests run in parallel without sharing state.
//! Databases a crashed test left behind are dropped after an hour.
#![expect(
    clippy::expect_used,
    reason = "test support: an unreachable test server should fail loudly"
)]

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

/// The environment variable naming the test server (any database on it).
pub const TEST_DATABASE_URL: &str = "LIA_TEST_DATABASE_URL";

/// A scratch database; call [`ScratchDatabase::drop_database`] when done.
#[derive(Debug, Clone)]
pub struct ScratchDatabase {
    /// Its URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchDatabase {
    /// A new empty database on the test server, or `None` when `LIA_TEST_DATABASE_URL` is unset.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be reached or refuses.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var(TEST_DATABASE_URL)
            .ok()
            .filter(|url| !url.trim().is_empty())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let name = format!("lia_test_{now}_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(&admin_url)
            .await
            .expect("LIA_TEST_DATABASE_URL must be reachable");
        drop_stale(&admin, now).await;
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("CREATE DATABASE");
        let _ = admin.close().await;
        Some(Self {
            url: with_database(&admin_url, &name),
            admin_url,
            name,
        })
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
