//! Test databases and fixtures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lia_domain::ports::{Cumulate, FinishOutcome, FinishedTurn, NewTurn, StartedTurn, StoredReply};
use lia_domain::{
    ConversationId, ConversationRepository, CumulativeSentiment, Email, MessageText, ModelInfo,
    NewUser, PasswordHash, SentimentResult, SentimentScore, SentimentSource, User, UserRepository,
    Username,
};
use lia_store::testing::ScratchDatabase;
use lia_store::{
    Database, DatabaseConnection, SqlConversationRepository, SqlUserRepository, StoreConfig,
};

/// One migrated, empty database with repositories over it.
pub(crate) struct TestDb {
    pub(crate) name: &'static str,
    /// The write path (the only connection on PostgreSQL).
    pub(crate) connection: DatabaseConnection,
    pub(crate) database: Database,
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
            self.database.close().await;
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
            .start_turn(new_turn(user, None, text))
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
            .start_turn(new_turn(user, Some(started.conversation.id), text))
            .await
            .unwrap();
        self.reply(user, &turn, &format!("reply to {text}")).await;
        turn
    }

    pub(crate) async fn reply(&self, user: &User, turn: &StartedTurn, text: &str) {
        let outcome = self
            .conversations
            .finish_turn(finished_turn(user, turn, Some(text), None))
            .await
            .unwrap();
        assert!(matches!(outcome, FinishOutcome::Stored { .. }));
    }
}

/// A turn of `user` with `text`, recorded under a fresh stream id, asking for ten messages
/// of context.
pub(crate) fn new_turn(
    user: &User,
    conversation_id: Option<ConversationId>,
    text: &str,
) -> NewTurn {
    NewTurn {
        user_id: user.id,
        conversation_id,
        content: MessageText::parse(text).unwrap(),
        context_limit: 10,
        stream_id: format!("{}-{}", user.id, uuid::Uuid::new_v4().simple()),
        provider: "local".into(),
        model: "eliza".into(),
        request: "{}".into(),
    }
}

/// The end of `turn`, with `reply` and, when given, a message score whose cumulative rule
/// counts one more message and averages the scores.
pub(crate) fn finished_turn(
    user: &User,
    turn: &StartedTurn,
    reply: Option<&str>,
    score: Option<f64>,
) -> FinishedTurn {
    FinishedTurn {
        user_id: user.id,
        conversation_id: turn.conversation.id,
        user_message_id: turn.user_message_id,
        stream_id: turn.stream_id.clone(),
        reply: reply.map(|text| StoredReply {
            text: text.to_owned(),
            model_info: model_info(),
        }),
        message_sentiment: score.map(|score| {
            SentimentResult::with_source(SentimentScore::clamped(score), SentimentSource::Lexicon)
        }),
        cumulate: averaging(score.unwrap_or(0.0)),
        usage_day: time::OffsetDateTime::now_utc().date(),
        other_usage: Vec::new(),
    }
}

/// A cumulative rule: one more message, the running average of the scores.
pub(crate) fn averaging(score: f64) -> Cumulate {
    Arc::new(move |stored: Option<&CumulativeSentiment>| {
        let previous = stored.cloned().unwrap_or_default();
        let count = previous.count + 1;
        let average =
            (previous.score.value() * f64::from(previous.count) + score) / f64::from(count);
        let state = CumulativeSentiment {
            summary: format!("{count} messages"),
            score: SentimentScore::clamped(average),
            count,
            label: SentimentScore::clamped(average).label(),
        };
        let result = SentimentResult::with_source(state.score, SentimentSource::Incremental);
        (state, result)
    })
}

pub(crate) fn model_info() -> ModelInfo {
    ModelInfo {
        provider: "local".into(),
        model: "eliza".into(),
        thoughts: None,
        finish_reason: None,
        fallback_from: None,
        usage: None,
    }
}

/// SQLite, plus PostgreSQL when `LIA_TEST_DATABASE_URL` is set, plus PostgreSQL behind a
/// transaction-mode pooler when `LIA_TEST_POOLER_URL` is set too.
pub(crate) async fn backends() -> Vec<TestDb> {
    let mut backends = vec![sqlite().await];
    match postgres().await {
        Some(postgres) => backends.push(postgres),
        None => println!("LIA_TEST_DATABASE_URL is not set: skipping PostgreSQL"),
    }
    match behind_pooler().await {
        Some(pooled) => backends.push(pooled),
        None => println!(
            "LIA_TEST_POOLER_URL (with LIA_TEST_DATABASE_URL) is not set: skipping PostgreSQL behind a transaction-mode pooler"
        ),
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
    let database = Database::open(&config).await.unwrap();
    database.migrate().await.unwrap();
    with_repositories("sqlite", database, Cleanup::Sqlite(dir))
}

/// A fresh, migrated database on the test server, named so stale ones can be recognised.
/// A fresh, migrated database on the test server.
async fn postgres() -> Option<TestDb> {
    on_postgres("postgres", ScratchDatabase::create().await?).await
}

/// The same behind the transaction-mode pooler at `LIA_TEST_POOLER_URL`: the repositories go
/// through it, the test's own queries straight to PostgreSQL.
async fn behind_pooler() -> Option<TestDb> {
    on_postgres(
        "postgres behind pgbouncer",
        ScratchDatabase::create_behind_pooler().await?,
    )
    .await
}

async fn on_postgres(name: &'static str, scratch: ScratchDatabase) -> Option<TestDb> {
    let config = StoreConfig {
        max_connections: 4,
        min_connections: 0,
        ..scratch.store_config()
    };
    let database = Database::open(&config).await.unwrap();
    database.migrate().await.unwrap();
    let mut db = with_repositories(name, database, Cleanup::Postgres(scratch.clone()));
    if scratch.migration_url.is_some() {
        db.connection = direct(&scratch).await;
    }
    Some(db)
}

/// A pool straight to PostgreSQL, past any pooler.
async fn direct(scratch: &ScratchDatabase) -> DatabaseConnection {
    let config = StoreConfig {
        database_url: Some(scratch.direct_url().to_owned().into()),
        max_connections: 4,
        min_connections: 0,
        ..StoreConfig::default()
    };
    lia_store::connect(&config).await.unwrap()
}

/// A fresh, empty (unmigrated) PostgreSQL database, or `None` without a test server.
pub(crate) async fn empty_postgres() -> Option<(DatabaseConnection, Cleanup)> {
    let scratch = ScratchDatabase::create().await?;
    let connection = direct(&scratch).await;
    Some((connection, Cleanup::Postgres(scratch)))
}

pub(crate) fn wrap_postgres(connection: DatabaseConnection, cleanup: Cleanup) -> TestDb {
    with_repositories("postgres", Database::from_connection(connection), cleanup)
}

fn with_repositories(name: &'static str, mut database: Database, cleanup: Cleanup) -> TestDb {
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    database.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    TestDb {
        name,
        users: SqlUserRepository::new(database.clone()),
        conversations: SqlConversationRepository::new(database.clone()),
        connection: database.writes().clone(),
        database,
        statements,
        cleanup,
    }
}
