//! A stop requested through the stream buffer (as another server instance would) ends the
//! turn, which stores its partial reply as `stopped`.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lia_cache::{
    CacheConfig, CacheStats, MemoryCache, MemoryStreamBuffer, MemoryStreamLimits, MemoryTurnLeases,
};
use lia_chat::{
    ChatConfig, ChatDependencies, ChatService, GenerationSettings, SentimentMethod, TaskTracker,
    TurnRequest,
};
use lia_domain::ports::StreamBuffer;
use lia_domain::{
    ConversationRepository, Email, MessageText, MessageWindow, NewUser, PasswordHash,
    UserRepository, Username,
};
use lia_llm::{LlmConfig, ProviderRegistry};
use lia_sentiment::{SentimentConfig, SentimentService};
use lia_store::{Database, StoreConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_from_another_instance_ends_the_turn_and_keeps_the_partial_reply() {
    let dir = tempfile::tempdir().unwrap();
    let store = StoreConfig {
        sqlite_path: dir.path().join("lia.db").display().to_string(),
        ..StoreConfig::default()
    };
    let database = Database::open(&store).await.unwrap();
    database.migrate().await.unwrap();
    let user = database
        .users()
        .create(NewUser {
            email: Email::parse("ada@example.com").unwrap(),
            username: Username::parse("ada").unwrap(),
            password_hash: PasswordHash("x".into()),
        })
        .await
        .unwrap();
    let repository = Arc::new(database.conversations());
    let mut llm = LlmConfig::default();
    llm.local.pace_ms = 100;
    let registry = Arc::new(ProviderRegistry::from_config(&llm, None).unwrap());
    let buffer: Arc<dyn StreamBuffer> =
        Arc::new(MemoryStreamBuffer::new(MemoryStreamLimits::default()));
    let chat = ChatService::new(
        ChatDependencies {
            repository: repository.clone(),
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
    let started = chat
        .start(TurnRequest {
            user_id: user.id,
            text: MessageText::parse(
                "Tell me a very long story about dragons, castles and the sea",
            )
            .unwrap(),
            conversation_id: None,
            provider: "local".into(),
            model: "lia-local".into(),
            sentiment_method: SentimentMethod::Lexicon,
            settings: GenerationSettings::default(),
        })
        .await
        .unwrap();
    let mut events = chat.follow(user.id, &started.stream_id, 0).await.unwrap();
    while events.next().await.unwrap().unwrap().event != "chunk" {}

    // Another instance shares only the buffer: it asks through it, and the request is
    // pushed to the generating instance.
    buffer.request_stop(&started.stream_id).await.unwrap();
    let mut last = None;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
    {
        last = Some(event.unwrap());
    }
    assert_eq!(last.unwrap().data, r#"{"finish_reason":"stopped"}"#);
    assert!(chat.tracker().drain(Duration::from_secs(5)).await);
    let page = repository
        .detail(user.id, started.conversation_id, MessageWindow::default())
        .await
        .unwrap();
    let reply = &page.messages[1];
    assert_eq!(
        reply.model_info.as_ref().unwrap().finish_reason,
        Some(lia_domain::FinishReason::Stopped)
    );
    assert!(!reply.content.is_empty());
}
