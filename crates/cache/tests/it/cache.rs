//! The conversation cache: TTLs, atomic context replacement, history order and removal, the
//! owner check on detail, and the fill-after-invalidate rule.

use std::time::Duration;

use lia_cache::{CacheKind, RateLimitConfig};
use lia_domain::ports::{Cached, FillToken};
use lia_domain::{
    ContextMessage, Conversation, ConversationId, ConversationPage, ConversationSummary,
    HistoryPage, MessageWindow, Role, UserId,
};
use time::OffsetDateTime;

use crate::backends::backends;

fn message(text: &str) -> ContextMessage {
    ContextMessage {
        role: Role::User,
        content: text.to_owned(),
    }
}

fn summary(minutes_ago: i64, title: &str) -> ConversationSummary {
    let at = lia_domain::clock::now_utc() - time::Duration::minutes(minutes_ago);
    ConversationSummary {
        id: ConversationId::new_v7(),
        title: Some(title.into()),
        created_at: at,
        updated_at: at,
        message_count: 2,
    }
}

fn titles(page: &[ConversationSummary]) -> Vec<&str> {
    page.iter()
        .map(|s| s.title.as_deref().unwrap_or_default())
        .collect()
}

async fn miss_token<T: std::fmt::Debug>(read: Cached<T>) -> FillToken {
    match read {
        Cached::Miss(token) => token,
        other => panic!("expected a miss, got {other:?}"),
    }
}

#[tokio::test]
async fn context_lists_are_trimmed_appended_only_when_present_and_expire() {
    for backend in backends(RateLimitConfig::default()).await {
        let id = ConversationId::new_v7();
        backend
            .cache
            .append_context(id, &[message("ignored")])
            .await;
        assert_eq!(
            backend.cache.context(id, 10).await,
            None,
            "{}: append does not create",
            backend.name
        );
        let messages: Vec<ContextMessage> = (0..8).map(|i| message(&format!("m{i}"))).collect();
        backend.cache.replace_context(id, &messages).await;
        let cached = backend.cache.context(id, 10).await.unwrap();
        assert_eq!(
            cached,
            messages[2..],
            "{}: trimmed to the newest 6",
            backend.name
        );
        backend.cache.append_context(id, &[message("m8")]).await;
        let last_three = backend.cache.context(id, 3).await.unwrap();
        assert_eq!(last_three, [message("m6"), message("m7"), message("m8")]);
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        assert_eq!(
            backend.cache.context(id, 10).await,
            None,
            "{}: expired",
            backend.name
        );
        assert!(
            backend.stats.hits(CacheKind::Context) >= 2
                && backend.stats.misses(CacheKind::Context) >= 2
        );
    }
}

#[tokio::test]
async fn racing_replacements_leave_one_writers_whole_list() {
    for backend in backends(RateLimitConfig::default()).await {
        let id = ConversationId::new_v7();
        let writers = (0..20).map(|writer| {
            let cache = backend.cache.clone();
            tokio::spawn(async move {
                let list: Vec<ContextMessage> =
                    (0..5).map(|k| message(&format!("w{writer}-{k}"))).collect();
                cache.replace_context(id, &list).await;
            })
        });
        futures::future::join_all(writers).await;
        let list = backend.cache.context(id, 10).await.unwrap();
        assert_eq!(list.len(), 5, "{}", backend.name);
        let writer = list[0].content.split('-').next().unwrap().to_owned();
        assert!(
            list.iter()
                .enumerate()
                .all(|(k, m)| m.content == format!("{writer}-{k}")),
            "{}: {list:?}",
            backend.name
        );
    }
}

#[tokio::test]
async fn history_pages_follow_updates_and_removals() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(1);
        let page = HistoryPage::new(0, 2).unwrap();
        let token = miss_token(backend.cache.history(user, page).await).await;
        let (a, b, c) = (summary(30, "a"), summary(20, "b"), summary(10, "c"));
        backend
            .cache
            .fill_history(user, token, &[c.clone(), b.clone(), a.clone()], true)
            .await;
        let Cached::Hit(first) = backend.cache.history(user, page).await else {
            panic!("{}: expected a hit", backend.name)
        };
        assert_eq!(titles(&first), ["c", "b"]);
        let Cached::Hit(second) = backend
            .cache
            .history(user, HistoryPage::new(2, 2).unwrap())
            .await
        else {
            panic!()
        };
        assert_eq!(
            titles(&second),
            ["a"],
            "{}: any page, not just the first",
            backend.name
        );

        let moved = ConversationSummary {
            updated_at: lia_domain::clock::now_utc(),
            message_count: 4,
            ..a.clone()
        };
        backend.cache.upsert_history(user, &moved).await;
        let Cached::Hit(first) = backend.cache.history(user, page).await else {
            panic!()
        };
        assert_eq!(titles(&first), ["a", "c"], "{}", backend.name);
        assert_eq!(first[0].message_count, 4);
        backend.cache.remove_history(user, c.id).await;
        let Cached::Hit(all) = backend
            .cache
            .history(user, HistoryPage::new(0, 10).unwrap())
            .await
        else {
            panic!()
        };
        assert_eq!(titles(&all), ["a", "b"], "{}", backend.name);

        backend.cache.invalidate_history(user).await;
        assert!(matches!(
            backend.cache.history(user, page).await,
            Cached::Miss(_)
        ));
        assert_eq!(
            backend.cache.history(UserId(2), page).await,
            Cached::Miss(miss_token(backend.cache.history(UserId(2), page).await).await)
        );
    }
}

#[tokio::test]
async fn a_partial_history_serves_only_the_pages_it_holds() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(3);
        let token = miss_token(backend.cache.history(user, HistoryPage::default()).await).await;
        let newest: Vec<ConversationSummary> =
            (0..4).map(|i| summary(i, &format!("s{i}"))).collect();
        backend
            .cache
            .fill_history(user, token, &newest, false)
            .await;
        assert!(
            matches!(
                backend
                    .cache
                    .history(user, HistoryPage::new(0, 4).unwrap())
                    .await,
                Cached::Hit(_)
            ),
            "{}",
            backend.name
        );
        assert!(
            matches!(
                backend
                    .cache
                    .history(user, HistoryPage::new(2, 4).unwrap())
                    .await,
                Cached::Miss(_)
            ),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn a_fill_that_raced_an_invalidation_is_refused() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = UserId(4);
        let page = HistoryPage::default();
        let stale_token = miss_token(backend.cache.history(user, page).await).await;
        // A writer commits and invalidates while the reader is still reading the database.
        backend.cache.invalidate_history(user).await;
        backend
            .cache
            .fill_history(user, stale_token, &[summary(5, "stale")], true)
            .await;
        assert!(
            matches!(backend.cache.history(user, page).await, Cached::Miss(_)),
            "{}: the stale fill was dropped",
            backend.name
        );
    }
}

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

#[tokio::test]
async fn detail_pages_are_served_only_to_their_owner_until_invalidated() {
    for backend in backends(RateLimitConfig::default()).await {
        let (owner, other) = (UserId(10), UserId(11));
        let page = page_of(owner);
        let id = page.conversation.id;
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

#[tokio::test]
async fn user_profiles_round_trip() {
    for backend in backends(RateLimitConfig::default()).await {
        let user = lia_domain::User {
            id: UserId(42),
            email: lia_domain::Email::parse("ada@example.com").unwrap(),
            username: lia_domain::Username::parse("ada").unwrap(),
            created_at: lia_domain::clock::now_utc(),
        };
        assert_eq!(backend.cache.user(user.id).await, None);
        backend.cache.store_user(&user).await;
        assert_eq!(
            backend.cache.user(user.id).await,
            Some(user),
            "{}",
            backend.name
        );
    }
}
