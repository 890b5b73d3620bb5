//! Concurrent writers into one conversation still produce a strict total order, and each
//! one's context is exactly the conversation before its own message.

use lia_domain::{ConversationRepository, MessageWindow};

use crate::support::{backends, new_turn};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_messages_into_one_conversation_keep_a_total_order() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let started = db.start(&ada, "start").await;
        let writers = (0..16).map(|i| {
            let conversations = db.conversations.clone();
            let mut turn = new_turn(&ada, Some(started.conversation.id), &format!("w{i}"));
            turn.context_limit = 100;
            tokio::spawn(async move { conversations.start_turn(turn).await })
        });
        let mut turns = Vec::new();
        for result in futures::future::join_all(writers).await {
            turns.push(result.unwrap().unwrap());
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
        for turn in &turns {
            let position = page
                .messages
                .iter()
                .position(|m| m.id == turn.user_message_id)
                .unwrap();
            let before: Vec<&str> = page.messages[..position]
                .iter()
                .map(|m| m.content.as_str())
                .collect();
            let context: Vec<&str> = turn.context.iter().map(|m| m.content.as_str()).collect();
            assert_eq!(
                context, before,
                "{}: the prompt is the conversation before it",
                db.name
            );
        }
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
