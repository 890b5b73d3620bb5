//! A chat service over real in-process adapters: SQLite in a temporary directory, the
//! in-process cache, stream buffer and leases, and the offline provider.

use std::sync::Arc;
use std::time::Duration;

use lia_cache::{
    CacheConfig, CacheStats, MemoryCache, MemoryStreamBuffer, MemoryStreamLimits, MemoryTurnLeases,
};
use lia_chat::{ChatConfig, ChatDependencies, ChatService, TaskTracker};
use lia_domain::ports::StreamBuffer;
use lia_domain::{Email, NewUser, PasswordHash, User, UserRepository, Username};
use lia_llm::{LlmConfig, ProviderRegistry};
use lia_sentiment::{SentimentConfig, SentimentService};
use lia_store::testing::ScratchSqlite;

/// The service and what a test inspects beside it.
pub(crate) struct ChatFixture {
    pub(crate) sqlite: ScratchSqlite,
    pub(crate) buffer: Arc<dyn StreamBuffer>,
    pub(crate) chat: ChatService,
    pub(crate) user: User,
}

/// A fresh service on `llm`, with one user.
pub(crate) async fn chat_fixture(llm: &LlmConfig) -> ChatFixture {
    let sqlite = ScratchSqlite::create().await;
    let database = &sqlite.database;
    let user = database
        .users()
        .create(NewUser {
            email: Email::parse("ada@example.com").unwrap(),
            username: Username::parse("ada").unwrap(),
            password_hash: PasswordHash("x".into()),
        })
        .await
        .unwrap();
    let registry = Arc::new(ProviderRegistry::from_config(llm, None).unwrap());
    let buffer: Arc<dyn StreamBuffer> =
        Arc::new(MemoryStreamBuffer::new(MemoryStreamLimits::default()));
    let chat = ChatService::new(
        ChatDependencies {
            repository: Arc::new(database.conversations()),
            cache: Arc::new(MemoryCache::new(
                &CacheConfig::default(),
                Arc::new(CacheStats::default()),
            )),
            buffer: buffer.clone(),
            leases: Arc::new(MemoryTurnLeases::new(Duration::from_secs(5))),
            llm: registry.clone(),
            sentiment: Arc::new(SentimentService::new(
                &SentimentConfig::default(),
                Some(registry),
            )),
            tracker: TaskTracker::new(tokio::runtime::Handle::current()),
            usage: Arc::new(database.usage()),
            quotas: lia_chat::QuotaConfig::default(),
            clock: Arc::new(lia_domain::clock::SystemClock),
        },
        ChatConfig::default(),
    );
    ChatFixture {
        sqlite,
        buffer,
        chat,
        user,
    }
}
