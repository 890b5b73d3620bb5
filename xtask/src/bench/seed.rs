//! The benchmark's data: users with conversations, and one conversation of 10,000 messages
//! for the deep-page scenario.

use std::path::Path;

use anyhow::Result;
use lia_auth::{HashingConfig, PasswordHasher};
use lia_domain::{ConversationId, Email, NewUser, Role, Username};
use lia_store::StoreConfig;
use lia_store::bulk::{ImportConversation, ImportMessage, import_conversations, import_users};
use time::{Duration, OffsetDateTime};

use crate::seed::SEED_PASSWORD;
use lia_migration::MigratorTrait;

/// Users signed in during the benchmark.
pub(crate) const USERS: usize = 32;

#[derive(Clone)]
pub(crate) struct Database {
    /// What the server is given as `DATABASE_URL` (through a pooler, when there is one).
    pub(crate) url: Option<String>,
    /// PostgreSQL itself: `DATABASE_MIGRATION_URL` when set, else `url`. Seeding and the
    /// connection counts go there.
    pub(crate) direct_url: Option<String>,
    pub(crate) sqlite_path: String,
    pub(crate) kind: &'static str,
    pub(crate) deep_conversation: ConversationId,
    pub(crate) user_ids: Vec<lia_domain::UserId>,
}

pub(crate) async fn prepare(dir: &Path) -> Result<Database> {
    let url = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty());
    let direct_url = std::env::var("DATABASE_MIGRATION_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| url.clone());
    let sqlite_path = dir.join("lia-bench.db").display().to_string();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{sqlite_path}{suffix}"));
    }
    let config = StoreConfig {
        database_url: direct_url.clone().map(Into::into),
        sqlite_path: sqlite_path.clone(),
        ..StoreConfig::default()
    };
    let connection = lia_store::connect(&config).await?;
    lia_migration::Migrator::fresh(&connection).await?;
    let hash = PasswordHasher::new(&HashingConfig::default())?
        .hash(SEED_PASSWORD)
        .await?;
    let users: Vec<NewUser> = (0..USERS)
        .map(|i| {
            Ok(NewUser {
                email: Email::parse(&format!("user{i}@example.com"))?,
                username: Username::parse(&format!("user{i}"))?,
                password_hash: hash.clone(),
            })
        })
        .collect::<Result<_, lia_domain::ValidationError>>()?;
    let ids = import_users(&connection, &users).await?;
    let base = OffsetDateTime::now_utc() - Duration::days(10);
    let message = |i: i64| ImportMessage {
        role: if i % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        },
        content: format!("Message {i}: a realistic line of chat text about gardens and weather."),
        created_at: base + Duration::seconds(i),
    };
    let mut conversations = Vec::new();
    for user in &ids {
        for c in 0..40_i64 {
            conversations.push(ImportConversation {
                user_id: *user,
                title: Some(format!("Conversation {c}")),
                created_at: base,
                messages: (c * 100..c * 100 + 20).map(message).collect(),
            });
        }
    }
    import_conversations(&connection, conversations).await?;
    let user_ids = ids.clone();
    let deep = ImportConversation {
        user_id: ids[0],
        title: Some("Long".into()),
        created_at: base,
        messages: (0..10_000).map(message).collect(),
    };
    let deep_conversation = import_conversations(&connection, vec![deep]).await?[0];
    connection.close().await?;
    Ok(Database {
        kind: if url.is_some() {
            "postgresql"
        } else {
            "sqlite"
        },
        url,
        direct_url,
        sqlite_path,
        deep_conversation,
        user_ids,
    })
}
