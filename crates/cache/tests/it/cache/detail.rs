//! [`lia_domain::ports::DetailCache`]: the owner check on every hit, pages stored as the
//! edge's encoding, and invalidation.

use lia_cache::RateLimitConfig;
use lia_domain::ports::Cached;
use lia_domain::{Conversation, ConversationId, ConversationPage, MessageWindow, UserId};
use time::OffsetDateTime;

use crate::backends::backends;

use super::miss_token;

fn page_of(owner: UserId) -> ConversationPage {
    let now = OffsetDateTime::now_utc();
    ConversationPage {
        conversation: Conversation {
            id: ConversationId::new_v7(),
            user_id: owner,
            title: Some("t".into()),
            sentiment_state: None,
            created_at: now,
            updated_at: now,
        },
        messages: vec![],
        total_messages: 0,
        has_more: false,
    }
}

fn page_id(page: &lia_domain::Shared<ConversationPage>) -> ConversationId {
    page.value().expect("a fresh page").conversation.id
}

#[tokio::test]
async fn a_detail_page_stored_with_its_encoding_is_served_as_those_bytes() {
    for backend in backends(RateLimitConfig::default()).await {
        let owner = UserId(12);
        let window = MessageWindow::default();
        let encoded = lia_domain::Shared::new(page_of(owner));
        let bytes = encoded
            .encoded_with(|_| Ok::<_, ()>(br#"{"wire":"\u00e9\n"}"#.to_vec()))
            .unwrap();
        let id = page_id(&encoded);
        let token = miss_token(backend.cache.detail(owner, id, window).await).await;
        backend.cache.store_detail(token, window, &encoded).await;
        let Cached::Hit(hit) = backend.cache.detail(owner, id, window).await else {
            panic!("{}: expected a hit", backend.name)
        };
        let served = hit.encoded_with(|_| Err("the stored bytes, not a new encoding"));
        assert_eq!(served.as_deref(), Ok(&bytes[..]), "{}", backend.name);
        assert!(
            matches!(
                backend.cache.detail(UserId(13), id, window).await,
                Cached::Miss(_)
            ),
            "{}: the owner check holds for stored bytes too",
            backend.name
        );
        backend.cache.invalidate_conversation(owner, id).await;
        assert!(
            matches!(
                backend.cache.detail(owner, id, window).await,
                Cached::Miss(_)
            ),
            "{}: and so does invalidation",
            backend.name
        );
    }
}

#[tokio::test]
async fn detail_pages_are_served_only_to_their_owner_until_invalidated() {
    for backend in backends(RateLimitConfig::default()).await {
        let (owner, other) = (UserId(10), UserId(11));
        let page = lia_domain::Shared::new(page_of(owner));
        let id = page_id(&page);
        let window = MessageWindow::default();
        let token = miss_token(backend.cache.detail(owner, id, window).await).await;
        backend.cache.store_detail(token, window, &page).await;
        assert_eq!(
            backend.cache.detail(owner, id, window).await,
            Cached::Hit(page.clone()),
            "{}",
            backend.name
        );
        assert!(
            matches!(
                backend.cache.detail(other, id, window).await,
                Cached::Miss(_)
            ),
            "{}: never to another user",
            backend.name
        );
        assert!(matches!(
            backend
                .cache
                .detail(
                    owner,
                    id,
                    MessageWindow::new(lia_domain::MessageAnchor::FromNewest { offset: 5 }, 50)
                        .unwrap()
                )
                .await,
            Cached::Miss(_)
        ));
        backend.cache.invalidate_conversation(owner, id).await;
        assert!(
            matches!(
                backend.cache.detail(owner, id, window).await,
                Cached::Miss(_)
            ),
            "{}: invalidated",
            backend.name
        );
    }
}
