//! Test databases and fixtures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lia_domain::ports::{FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{
    ConversationRepository, Email, MessageText, ModelInfo, NewUser, PasswordHash, User,
    UserRepository, Username,
};
use lia_store::testing::ScratchDatabase;
use lia_store::{DatabaseConnection, SqlConversationRepository, SqlUserRepository, StoreConfig};

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
    Postgres(ScratchDatabase),
}

impl TestDb {
    /// Statements executed since the last call.
    pub(crate) fn take_statement_count(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    pub(crate) async fn finish(self) {
        if let Cleanup::Postgres(scratch) = self.cleanup {
            self.connection.close().await.unwrap();
            scratch.drop_database().await;
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
    let scratch = ScratchDatabase::create().await?;
    let config = StoreConfig {
        database_url: Some(scratch.url.clone()),
        max_connections: 4,
        min_connections: 0,
        ..StoreConfig::default()
    };
    let connection = lia_store::connect(&config).await.unwrap();
    Some((connection, Cleanup::Postgres(scratch)))
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
