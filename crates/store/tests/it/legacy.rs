//! Adopting a PostgreSQL database populated by the Python reference service (Alembic head
//! `007`, schema as in `docs/api.md` section 5), keeping every user, hash and conversation.

use lia_domain::ports::NewTurn;
use lia_domain::{
    ConversationRepository, Email, HistoryPage, MessageText, MessageWindow, Role, SentimentLabel,
    SentimentSource, UserRepository,
};
use lia_migration::{Migrator, MigratorTrait};
use sea_orm::ConnectionTrait;

use crate::support::{empty_postgres, wrap_postgres};

const REFERENCE_SCHEMA: &str = r#"
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version (version_num) VALUES ('007');
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    email VARCHAR(255) NOT NULL,
    username VARCHAR(100) NOT NULL,
    hashed_password VARCHAR(255) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE UNIQUE INDEX ix_users_username ON users (username);
CREATE TABLE conversations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title VARCHAR(255),
    sentiment_state JSON,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ix_conversations_user_created ON conversations (user_id, created_at);
CREATE INDEX ix_conversations_user_updated ON conversations (user_id, updated_at);
CREATE TABLE messages (
    id SERIAL PRIMARY KEY,
    conversation_id UUID REFERENCES conversations (id) ON DELETE CASCADE,
    role VARCHAR(20) NOT NULL,
    content TEXT NOT NULL,
    sentiment_data JSON,
    model_info JSON,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ix_messages_conversation_id ON messages (conversation_id);
CREATE INDEX ix_messages_conversation_created ON messages (conversation_id, created_at);
"#;

const REFERENCE_DATA: &str = r#"
INSERT INTO users (email, username, hashed_password, created_at, updated_at) VALUES
  ('Ada@example.com', 'ada', '$2b$12$KIXQJYd0s1c8v1m0bX1bUOq9pZ8X2m2p8m5m3pQ1v7x3yL5sZ0c2e', '2025-01-02T03:04:05.123456Z', '2025-01-02T03:04:05.123456Z');
INSERT INTO conversations (id, user_id, title, sentiment_state, created_at, updated_at) VALUES
  ('0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 1, 'Old chat',
   '{"summary": "User is happy", "score": 0.5, "count": 1, "label": "positive"}',
   '2025-01-02T03:05:00Z', '2025-01-02T03:06:00Z');
INSERT INTO messages (conversation_id, role, content, sentiment_data, model_info, created_at) VALUES
  ('0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 'user', 'I am happy',
   '{"message": {"score": 0.5555, "label": "Positive", "emotion": "happy", "source": "llm_separate", "details": {"provider": "gemini", "model": "gemini-2.5-flash"}}, "cumulative": {"score": 0.5, "label": "Positive", "emotion": "happy", "source": "incremental", "summary": "User is happy"}}',
   NULL, '2025-01-02T03:05:00Z'),
  ('0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', 'assistant', 'Great!', NULL,
   '{"provider": "gemini", "model": "gemini-2.5-flash", "thoughts": null}', '2025-01-02T03:05:01.5Z');
"#;

#[tokio::test]
async fn a_reference_database_is_adopted_with_all_its_data() {
    let Some((connection, cleanup)) = empty_postgres().await else {
        return;
    };
    connection
        .execute_unprepared(REFERENCE_SCHEMA)
        .await
        .unwrap();
    connection.execute_unprepared(REFERENCE_DATA).await.unwrap();
    lia_store::migrate(&connection).await.unwrap();
    let db = wrap_postgres(connection, cleanup);

    let email = Email::parse("Ada@example.com").unwrap();
    let credentials = db.users.find_credentials(&email).await.unwrap().unwrap();
    assert!(
        credentials.password_hash.0.starts_with("$2b$12$"),
        "the bcrypt hash is kept"
    );
    let ada = credentials.user;

    let history = db
        .conversations
        .history(ada.id, HistoryPage::default())
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].title.as_deref(), history[0].message_count),
        (Some("Old chat"), 2)
    );
    let id = history[0].id;

    let page = db
        .conversations
        .detail(ada.id, id, MessageWindow::default())
        .await
        .unwrap();
    let state = page.conversation.sentiment_state.clone().unwrap();
    assert_eq!((state.count, state.label), (1, SentimentLabel::Positive));
    assert_eq!(page.messages[0].role, Role::User);
    let sentiment = page.messages[0]
        .sentiment_data
        .clone()
        .unwrap()
        .message
        .unwrap();
    assert_eq!(sentiment.source, SentimentSource::LlmSeparate);
    assert_eq!(sentiment.details.provider.as_deref(), Some("gemini"));
    assert_eq!(
        page.messages[1].model_info.as_ref().unwrap().model,
        "gemini-2.5-flash"
    );

    // The adopted conversation goes on: a new turn keeps its title and orders after the past.
    let turn = db
        .conversations
        .start_turn(NewTurn {
            user_id: ada.id,
            conversation_id: Some(id),
            content: MessageText::parse("still here").unwrap(),
            context_limit: 10,
            stream_id: format!("{}-legacy", ada.id),
            provider: "local".into(),
            model: "eliza".into(),
            request: "{}".into(),
        })
        .await
        .unwrap();
    assert_eq!(turn.conversation.title.as_deref(), Some("Old chat"));
    let page = db
        .conversations
        .detail(ada.id, id, MessageWindow::default())
        .await
        .unwrap();
    assert_eq!(page.messages.last().unwrap().content, "still here");

    let manager = sea_orm_migration::SchemaManager::new(&db.connection);
    assert!(
        manager
            .has_index("messages", "ix_messages_conversation_created_id")
            .await
            .unwrap()
    );
    let nullable = db
        .connection
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'conversation_id'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "is_nullable")
        .unwrap();
    assert_eq!(nullable, "NO");

    // Rolling back an adopted database removes only what Lia added.
    Migrator::down(&db.connection, None).await.unwrap();
    assert!(
        !manager
            .has_index("messages", "ix_messages_conversation_created_id")
            .await
            .unwrap()
    );
    assert_eq!(
        db.conversations
            .history(ada.id, HistoryPage::default())
            .await
            .unwrap()
            .len(),
        1
    );
    db.finish().await;
}

#[tokio::test]
async fn another_reference_revision_is_refused_by_name() {
    let Some((connection, cleanup)) = empty_postgres().await else {
        return;
    };
    connection
        .execute_unprepared(REFERENCE_SCHEMA)
        .await
        .unwrap();
    connection
        .execute_unprepared("UPDATE alembic_version SET version_num = '005'")
        .await
        .unwrap();
    let error = lia_store::migrate(&connection).await.unwrap_err();
    let chain = format!("{:?}", error);
    assert!(chain.contains("revision 005"), "{chain}");
    wrap_postgres(connection, cleanup).finish().await;
}
