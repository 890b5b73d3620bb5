//! Conversation detail: offset paging from the newest message, keyset cursors in both
//! directions, edges, ties, the owner check, and at most two round trips.

use lia_domain::{
    ConversationId, ConversationPage, ConversationRepository, HistoryPage, MessageAnchor,
    MessageId, MessageWindow, RepositoryError, Role, User,
};
use lia_store::bulk::{ImportConversation, ImportMessage, import_conversations};
use time::{Duration, OffsetDateTime};

use crate::support::{TestDb, backends};

const N_MESSAGES: usize = 25;

/// A conversation of `N_MESSAGES` messages `m0`..`m24`, whose timestamps tie in pairs so the
/// `id` tie-breaker matters, plus an empty conversation.
async fn fixture(db: &TestDb, user: &User) -> (ConversationId, Vec<MessageId>, ConversationId) {
    let base = OffsetDateTime::now_utc() - Duration::days(1);
    let messages = (0..N_MESSAGES)
        .map(|i| ImportMessage {
            role: if i % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            },
            content: format!("m{i}"),
            created_at: base + Duration::seconds((i / 2) as i64),
        })
        .collect();
    let conversations = vec![
        ImportConversation {
            user_id: user.id,
            title: Some("long".into()),
            created_at: base,
            messages,
        },
        ImportConversation {
            user_id: user.id,
            title: Some("empty".into()),
            created_at: base,
            messages: vec![],
        },
    ];
    import_conversations(&db.connection, conversations)
        .await
        .unwrap();
    let history = db
        .conversations
        .history(user.id, HistoryPage::default())
        .await
        .unwrap();
    let long = history
        .iter()
        .find(|s| s.title.as_deref() == Some("long"))
        .unwrap()
        .id;
    let empty = history
        .iter()
        .find(|s| s.title.as_deref() == Some("empty"))
        .unwrap()
        .id;
    let all = db
        .conversations
        .detail(user.id, long, MessageWindow::latest(200).unwrap())
        .await
        .unwrap();
    (long, all.messages.iter().map(|m| m.id).collect(), empty)
}

fn contents(page: &ConversationPage) -> Vec<String> {
    page.messages.iter().map(|m| m.content.clone()).collect()
}

fn range(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("m{i}")).collect()
}

async fn window(
    db: &TestDb,
    user: &User,
    id: ConversationId,
    anchor: MessageAnchor,
    limit: u64,
) -> ConversationPage {
    db.take_statement_count();
    let page = db
        .conversations
        .detail(user.id, id, MessageWindow::new(anchor, limit).unwrap())
        .await
        .unwrap();
    let n_statements = db.take_statement_count();
    assert!(
        n_statements <= 2,
        "{}: detail took {n_statements} statements",
        db.name
    );
    page
}

#[tokio::test]
async fn offsets_count_back_from_the_newest_message() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let (long, _, empty) = fixture(&db, &ada).await;
        let newest = |offset| MessageAnchor::FromNewest { offset };

        let page = window(&db, &ada, long, newest(0), 10).await;
        assert_eq!(contents(&page), range(15, 25), "{}", db.name);
        assert_eq!((page.total_messages, page.has_more), (25, true));

        let page = window(&db, &ada, long, newest(10), 10).await;
        assert_eq!(contents(&page), range(5, 15), "{}", db.name);
        assert!(page.has_more);

        let page = window(&db, &ada, long, newest(20), 10).await;
        assert_eq!(contents(&page), range(0, 5), "{}", db.name);
        assert!(!page.has_more);

        for past_the_end in [25, 1000] {
            let page = window(&db, &ada, long, newest(past_the_end), 10).await;
            assert!(page.messages.is_empty());
            assert_eq!((page.total_messages, page.has_more), (25, false));
        }

        let page = window(&db, &ada, long, newest(0), 200).await;
        assert_eq!(contents(&page), range(0, 25));
        let page = window(&db, &ada, long, newest(0), 1).await;
        assert_eq!(contents(&page), range(24, 25));

        let page = window(&db, &ada, empty, newest(0), 50).await;
        assert_eq!(
            (page.messages.len(), page.total_messages, page.has_more),
            (0, 0, false)
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn cursors_page_exactly_in_both_directions() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let (long, ids, _) = fixture(&db, &ada).await;

        let page = window(&db, &ada, long, MessageAnchor::Before(ids[10]), 5).await;
        assert_eq!(
            (contents(&page), page.has_more),
            (range(5, 10), true),
            "{}",
            db.name
        );
        let page = window(&db, &ada, long, MessageAnchor::Before(ids[3]), 5).await;
        assert_eq!(
            (contents(&page), page.has_more),
            (range(0, 3), false),
            "{}",
            db.name
        );
        let page = window(&db, &ada, long, MessageAnchor::Before(ids[0]), 5).await;
        assert_eq!((contents(&page), page.has_more), (vec![], false));

        let page = window(&db, &ada, long, MessageAnchor::After(ids[10]), 5).await;
        assert_eq!(
            (contents(&page), page.has_more),
            (range(11, 16), true),
            "{}",
            db.name
        );
        let page = window(&db, &ada, long, MessageAnchor::After(ids[20]), 5).await;
        assert_eq!((contents(&page), page.has_more), (range(21, 25), false));
        let page = window(&db, &ada, long, MessageAnchor::After(ids[24]), 5).await;
        assert_eq!((contents(&page), page.has_more), (vec![], false));

        // Walking the whole conversation backwards by cursor visits every message once.
        let mut seen = Vec::new();
        let mut anchor = MessageAnchor::FromNewest { offset: 0 };
        loop {
            let page = window(&db, &ada, long, anchor, 4).await;
            let mut batch = contents(&page);
            batch.extend(seen);
            seen = batch;
            match (page.has_more, page.messages.first()) {
                (true, Some(oldest)) => anchor = MessageAnchor::Before(oldest.id),
                _ => break,
            }
        }
        assert_eq!(seen, range(0, 25), "{}", db.name);
        assert_eq!(page_total(&db, &ada, long).await, 25);
        db.finish().await;
    }
}

async fn page_total(db: &TestDb, user: &User, id: ConversationId) -> u64 {
    db.conversations
        .detail(user.id, id, MessageWindow::default())
        .await
        .unwrap()
        .total_messages
}

#[tokio::test]
async fn cursors_from_another_conversation_select_nothing() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let (long, _, _) = fixture(&db, &ada).await;
        let other = db.start(&ada, "other").await;
        let page = window(
            &db,
            &ada,
            long,
            MessageAnchor::Before(other.user_message_id),
            5,
        )
        .await;
        assert!(page.messages.is_empty(), "{}", db.name);
        assert_eq!(page.total_messages, 25);
        db.finish().await;
    }
}

#[tokio::test]
async fn detail_of_a_missing_or_foreign_conversation_is_not_found() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let (long, _, _) = fixture(&db, &ada).await;
        let foreign = db
            .conversations
            .detail(bob.id, long, MessageWindow::default())
            .await;
        assert!(
            matches!(foreign, Err(RepositoryError::NotFound)),
            "{}",
            db.name
        );
        let missing = db
            .conversations
            .detail(ada.id, ConversationId::new_v7(), MessageWindow::default())
            .await;
        assert!(matches!(missing, Err(RepositoryError::NotFound)));
        db.finish().await;
    }
}
