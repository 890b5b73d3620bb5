//! Concurrent writers into one conversation still produce a strict total order.

use lia_domain::ports::NewTurn;
use lia_domain::{ConversationRepository, MessageText, MessageWindow};

use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_into_one_conversation_keep_a_total_order() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let started = db.start(&ada, "start").await;
        let writers = (0..16).map(|i| {
            let conversations = db.conversations.clone();
            let turn = NewTurn {
                user_id: ada.id,
                conversation_id: Some(started.conversation.id),
                content: MessageText::parse(&format!("w{i}")).unwrap(),
            };
            tokio::spawn(async move { conversations.start_turn(turn).await })
        });
        for result in futures::future::join_all(writers).await {
            result.unwrap().unwrap();
        }
        let page = db
            .conversations
            .detail(
                ada.id,
                started.conversation.id,
                MessageWindow::latest(200).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(page.total_messages, 17, "{}", db.name);
        assert_eq!(page.messages.len(), 17);
        for pair in page.messages.windows(2) {
            assert!(
                pair[0].created_at < pair[1].created_at,
                "{}: timestamps strictly increase",
                db.name
            );
            assert!(
                pair[0].id < pair[1].id,
                "{}: ids follow insertion order",
                db.name
            );
        }
        db.finish().await;
    }
}
