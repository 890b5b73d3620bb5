//! The conversation service over SQLite and the in-process cache: cache-aside reads that
//! serve what they stored, owner checks, and changes that the next read sees at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lia_cache::{CacheConfig, CacheKind, CacheStats, MemoryCache};
use lia_chat::ConversationService;
use lia_domain::ports::NewTurn;
use lia_domain::{
    ConversationId, ConversationRepository, Email, HistoryPage, MessageText, MessageWindow,
    NewUser, PasswordHash, RepositoryError, Title, User, UserRepository, Username,
};
use lia_store::testing::ScratchSqlite;

struct Fixture {
    sqlite: ScratchSqlite,
    stats: Arc<CacheStats>,
    encoded: Arc<AtomicUsize>,
    service: ConversationService,
}

async fn fixture() -> Fixture {
    let sqlite = ScratchSqlite::create().await;
    let database = &sqlite.database;
    let stats = Arc::new(CacheStats::default());
    let cache = Arc::new(MemoryCache::new(
        &CacheConfig::default(),
        Arc::clone(&stats),
    ));
    let encoded = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&encoded);
    let service = ConversationService::new(Arc::new(database.conversations()), cache, 100)
        .with_detail_encoder(Arc::new(move |page, window| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(format!(
                "{}:{}:{}",
                page.conversation.id,
                page.messages.len(),
                window.limit()
            )
            .into_bytes())
        }));
    Fixture {
        sqlite,
        stats,
        encoded,
        service,
    }
}

async fn user(fixture: &Fixture, name: &str) -> User {
    fixture
        .sqlite
        .database
        .users()
        .create(NewUser {
            email: Email::parse(&format!("{name}@example.com")).unwrap(),
            username: Username::parse(name).unwrap(),
            password_hash: PasswordHash("x".into()),
        })
        .await
        .unwrap()
}

async fn conversation(fixture: &Fixture, owner: &User, text: &str) -> ConversationId {
    let started = fixture
        .sqlite
        .database
        .conversations()
        .start_turn(NewTurn {
            user_id: owner.id,
            conversation_id: None,
            content: MessageText::parse(text).unwrap(),
            context_limit: 10,
            stream_id: format!("{}-{}", owner.id, uuid::Uuid::new_v4().simple()),
            provider: "local".into(),
            model: "lia-local".into(),
            request: "{}".into(),
        })
        .await
        .unwrap();
    started.conversation.id
}

fn titles(page: &[lia_domain::ConversationSummary]) -> Vec<&str> {
    page.iter().filter_map(|s| s.title.as_deref()).collect()
}

#[tokio::test]
async fn a_first_page_is_encoded_once_when_cached_and_served_only_to_its_owner() {
    let fixture = fixture().await;
    let (ada, bob) = (user(&fixture, "ada").await, user(&fixture, "bob").await);
    let id = conversation(&fixture, &ada, "hello there").await;
    let window = MessageWindow::default();

    let first = fixture.service.detail(ada.id, id, window).await.unwrap();
    let again = fixture.service.detail(ada.id, id, window).await.unwrap();
    let expected = format!("{id}:1:{}", window.limit());
    for page in [&first, &again] {
        let body = page.encoded_with(|_| Err("already encoded")).unwrap();
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected);
    }
    assert_eq!(
        fixture.encoded.load(Ordering::SeqCst),
        1,
        "encoded when cached, not per read"
    );
    assert_eq!(fixture.stats.hits(CacheKind::Detail), 1);

    let refused = fixture.service.detail(bob.id, id, window).await;
    assert!(
        matches!(refused, Err(RepositoryError::NotFound)),
        "{refused:?}"
    );
    let later =
        MessageWindow::new(lia_domain::MessageAnchor::FromNewest { offset: 1 }, 10).unwrap();
    for _ in 0..2 {
        fixture.service.detail(ada.id, id, later).await.unwrap();
    }
    assert_eq!(
        (
            fixture.encoded.load(Ordering::SeqCst),
            fixture.stats.hits(CacheKind::Detail)
        ),
        (3, 1),
        "a later page is not cached: each read is its own"
    );
}

#[tokio::test]
async fn changes_are_read_back_at_once_through_the_cache() {
    let fixture = fixture().await;
    let ada = user(&fixture, "ada").await;
    let older = conversation(&fixture, &ada, "first question").await;
    let newer = conversation(&fixture, &ada, "second question").await;
    let page = HistoryPage::default();
    let history = fixture.service.history(ada.id, page).await.unwrap();
    let before: Vec<_> = history.value().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(before, [newer, older]);

    fixture
        .service
        .rename(ada.id, older, Title::parse("renamed").unwrap())
        .await
        .unwrap();
    let renamed = fixture.service.history(ada.id, page).await.unwrap();
    let renamed = renamed.value().unwrap();
    assert_eq!(
        renamed[0].id, older,
        "a rename moves the conversation to the top"
    );
    assert_eq!(titles(renamed)[0], "renamed");

    let window = MessageWindow::default();
    fixture.service.detail(ada.id, newer, window).await.unwrap();
    fixture.service.delete(ada.id, newer).await.unwrap();
    let gone = fixture.service.detail(ada.id, newer, window).await;
    assert!(matches!(gone, Err(RepositoryError::NotFound)), "{gone:?}");
    let after = fixture.service.history(ada.id, page).await.unwrap();
    let ids: Vec<_> = after.value().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, [older]);

    assert_eq!(fixture.service.delete_all(ada.id).await.unwrap(), 1);
    let empty = fixture.service.history(ada.id, page).await.unwrap();
    assert!(empty.value().unwrap().is_empty());
}
