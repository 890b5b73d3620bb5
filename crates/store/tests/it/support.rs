//! Test databases and fixtures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lia_domain::ports::{FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{
    ConversationRepository, Email, MessageText, ModelInfo, NewUser, PasswordHash, User,
    UserRepository, Username,
};
use lia_store::{DatabaseConnection, SqlConversationRepository, SqlUserRepository, StoreConfig};
use sea_orm::{ConnectionTrait, Database};

/// One migrated, empty database with repositories over it.
pub(crate) struct TestDb {
    pub(crate) name: &'static str,
    pub(crate) connection: DatabaseConnection,
    pub(crate) users: SqlUserRepository,
    pub(crate) conversations: SqlConversationRepository,
    statements: Arc<AtomicUsize>,
    cleanup: Cleanup,
}

pub(crate) enum Cleanup {
    Sqlite(
        #[expect(
            dead_code,
            reason = "held so the directory lives as long as the database"
        )]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        database: String,
    },
}

impl TestDb {
    /// Statements executed since the last call.
    pub(crate) fn take_statement_count(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    pub(crate) async fn finish(self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = self.cleanup
        {
            self.connection.close().await.unwrap();
            drop_postgres_database(&admin_url, &database).await;
        }
    }

    pub(crate) async fn user(&self, name: &str) -> User {
        self.users
            .create(NewUser {
                email: Email::parse(&format!("{name}@example.com")).unwrap(),
                username: Username::parse(name).unwrap(),
                password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            })
            .await
            .unwrap()
    }

    /// A new conversation of `user` started with `text`.
    pub(crate) async fn start(&self, user: &User, text: &str) -> StartedTurn {
        self.conversations
            .start_turn(NewTurn {
                user_id: user.id,
                conversation_id: None,
                content: MessageText::parse(text).unwrap(),
            })
            .await
            .unwrap()
    }

    /// One full turn (user message and reply) in an existing conversation.
    pub(crate) async fn exchange(
        &self,
        user: &User,
        started: &StartedTurn,
        text: &str,
    ) -> StartedTurn {
        let turn = self
            .conversations
            .start_turn(NewTurn {
                user_id: user.id,
                conversation_id: Some(started.conversation.id),
                content: MessageText::parse(text).unwrap(),
            })
            .await
            .unwrap();
        self.reply(user, &turn, &format!("reply to {text}")).await;
        turn
    }

    pub(crate) async fn reply(&self, user: &User, turn: &StartedTurn, text: &str) {
        self.conversations
            .finish_turn(FinishedTurn {
                user_id: user.id,
                conversation_id: turn.conversation.id,
                user_message_id: turn.user_message_id,
                reply: text.to_owned(),
                model_info: model_info(),
                user_sentiment: None,
                sentiment_state: None,
            })
            .await
            .unwrap();
    }
}

pub(crate) fn model_info() -> ModelInfo {
    ModelInfo {
        provider: "local".into(),
        model: "eliza".into(),
        thoughts: None,
        finish_reason: None,
    }
}

/// SQLite, plus PostgreSQL when `LIA_TEST_DATABASE_URL` is set.
pub(crate) async fn backends() -> Vec<TestDb> {
    let mut backends = vec![sqlite().await];
    if let Some(postgres) = postgres().await {
        backends.push(postgres);
    }
    backends
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig {
        sqlite_path: dir.path().join("test.db").display().to_string(),
        max_connections: 4,
        ..StoreConfig::default()
    };
    let connection = lia_store::connect(&config).await.unwrap();
    lia_store::migrate(&connection).await.unwrap();
    with_repositories("sqlite", connection, Cleanup::Sqlite(dir))
}

/// A fresh, migrated database on the test server, named so stale ones can be recognised.
async fn postgres() -> Option<TestDb> {
    let connection = empty_postgres().await?;
    let (connection, cleanup) = connection;
    lia_store::migrate(&connection).await.unwrap();
    Some(with_repositories("postgres", connection, cleanup))
}

/// A fresh, empty (unmigrated) PostgreSQL database, or `None` without a test server.
pub(crate) async fn empty_postgres() -> Option<(DatabaseConnection, Cleanup)> {
    let admin_url = std::env::var("LIA_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let database = format!("lia_test_{now}_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("LIA_TEST_DATABASE_URL must be reachable");
    drop_stale_databases(&admin, now).await;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let config = StoreConfig {
        database_url: Some(with_database(&admin_url, &database)),
        max_connections: 4,
        min_connections: 0,
        ..StoreConfig::default()
    };
    let connection = lia_store::connect(&config).await.unwrap();
    Some((
        connection,
        Cleanup::Postgres {
            admin_url,
            database,
        },
    ))
}

pub(crate) fn wrap_postgres(connection: DatabaseConnection, cleanup: Cleanup) -> TestDb {
    with_repositories("postgres", connection, cleanup)
}

fn with_repositories(
    name: &'static str,
    mut connection: DatabaseConnection,
    cleanup: Cleanup,
) -> TestDb {
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    connection.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    TestDb {
        name,
        users: SqlUserRepository::new(connection.clone()),
        conversations: SqlConversationRepository::new(connection.clone()),
        connection,
        statements,
        cleanup,
    }
}

/// Drops test databases over an hour old: left behind by a test that panicked.
async fn drop_stale_databases(admin: &DatabaseConnection, now: u64) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'lia_test_%'",
        ))
        .await
        .unwrap();
    for row in rows {
        let name: String = row.try_get("", "datname").unwrap();
        let created = name
            .split('_')
            .nth(2)
            .and_then(|secs| secs.parse::<u64>().ok())
            .unwrap_or(0);
        if now.saturating_sub(created) > 3600 {
            // Another process may be dropping it too; either way it goes.
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

async fn drop_postgres_database(admin_url: &str, database: &str) {
    let admin = Database::connect(admin_url).await.unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        .await
        .unwrap();
    admin.close().await.unwrap();
}

/// `url` pointing at `database` instead of the one it names.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut result = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

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
