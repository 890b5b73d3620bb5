//! The history list: order, counts, paging, isolation, and its single query.

use lia_domain::{ConversationRepository, HistoryPage, Title};

use crate::support::backends;

#[tokio::test]
async fn history_is_newest_first_with_counts_and_pages() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let first = db.start(&ada, "first").await;
        let second = db.start(&ada, "second").await;
        db.exchange(&ada, &second, "more").await;
        let third = db.start(&ada, "third").await;
        db.start(&bob, "bob's own").await;

        db.take_statement_count();
        let page = db
            .conversations
            .history(ada.id, HistoryPage::default())
            .await
            .unwrap();
        assert_eq!(
            db.take_statement_count(),
            1,
            "{}: history is one query",
            db.name
        );
        let listed: Vec<(Option<&str>, u64)> = page
            .iter()
            .map(|s| (s.title.as_deref(), s.message_count))
            .collect();
        assert_eq!(
            listed,
            [(Some("third"), 1), (Some("second"), 3), (Some("first"), 1)],
            "{}",
            db.name
        );

        // Renaming moves a conversation to the top.
        db.conversations
            .rename(
                ada.id,
                first.conversation.id,
                Title::parse("renamed").unwrap(),
            )
            .await
            .unwrap();
        let page = db
            .conversations
            .history(ada.id, HistoryPage::new(0, 2).unwrap())
            .await
            .unwrap();
        let ids: Vec<_> = page.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [first.conversation.id, third.conversation.id],
            "{}",
            db.name
        );
        let rest = db
            .conversations
            .history(ada.id, HistoryPage::new(2, 2).unwrap())
            .await
            .unwrap();
        assert_eq!(
            rest.iter().map(|s| s.id).collect::<Vec<_>>(),
            [second.conversation.id]
        );
        assert!(
            db.conversations
                .history(ada.id, HistoryPage::new(10, 20).unwrap())
                .await
                .unwrap()
                .is_empty()
        );

        let nobody = db.user("carol").await;
        assert!(
            db.conversations
                .history(nobody.id, HistoryPage::default())
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}
