//! The chat turn's transactions: load-or-create with the owner check, titles, replies with
//! sentiment, and what survives a failure.

use lia_domain::ports::{FinishedTurn, NewTurn};
use lia_domain::{
    ConversationRepository, CumulativeSentiment, FinishReason, MessageSentiment, MessageText,
    MessageWindow, ModelInfo, RepositoryError, Role, SentimentResult, SentimentScore,
    SentimentSource,
};

use crate::support::{backends, model_info};

#[tokio::test]
async fn first_message_creates_a_titled_conversation() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let text = "This is a fairly long first message that goes beyond fifty characters";
        let started = db.start(&ada, text).await;
        assert!(started.created);
        assert_eq!(started.previous_messages, 0);
        assert_eq!(started.conversation.user_id, ada.id);
        assert_eq!(
            started.conversation.title.as_deref(),
            Some("This is a fairly long first message that goes..."),
            "{}",
            db.name
        );
        // A later message never changes the title.
        let second = db.exchange(&ada, &started, "Something else entirely").await;
        assert!(!second.created);
        assert_eq!(second.previous_messages, 1);
        assert_eq!(second.conversation.title, started.conversation.title);
        assert!(second.conversation.updated_at > started.conversation.updated_at);

        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        let texts: Vec<(Role, &str)> = page
            .messages
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                (Role::User, text),
                (Role::User, "Something else entirely"),
                (Role::Assistant, "reply to Something else entirely"),
            ],
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn another_users_conversation_is_not_found_and_untouched() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let started = db.start(&ada, "private").await;
        let intrusion = db
            .conversations
            .start_turn(NewTurn {
                user_id: bob.id,
                conversation_id: Some(started.conversation.id),
                content: MessageText::parse("let me in").unwrap(),
            })
            .await;
        assert!(
            matches!(intrusion, Err(RepositoryError::NotFound)),
            "{}",
            db.name
        );
        let reply = db
            .conversations
            .finish_turn(FinishedTurn {
                user_id: bob.id,
                conversation_id: started.conversation.id,
                user_message_id: started.user_message_id,
                reply: "hijacked".into(),
                model_info: model_info(),
                user_sentiment: None,
                sentiment_state: None,
            })
            .await;
        assert!(
            matches!(reply, Err(RepositoryError::NotFound)),
            "{}",
            db.name
        );
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.total_messages, 1, "{}", db.name);
        assert_eq!(
            page.conversation.updated_at,
            started.conversation.updated_at
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn finishing_stores_reply_sentiment_and_state_together() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let started = db.start(&ada, "I love this!").await;
        let message_result =
            SentimentResult::with_source(SentimentScore::clamped(0.8), SentimentSource::Lexicon)
                .with_emotion("joy");
        let state = CumulativeSentiment {
            summary: "User is joyful".into(),
            score: SentimentScore::clamped(0.8),
            count: 1,
            label: SentimentScore::clamped(0.8).label(),
        };
        let info = ModelInfo {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            thoughts: Some(vec!["hmm".into(), "ok".into()]),
            finish_reason: Some(FinishReason::Stopped),
        };
        let sentiment = MessageSentiment {
            message: Some(message_result.clone()),
            cumulative: Some(message_result),
        };
        db.conversations
            .finish_turn(FinishedTurn {
                user_id: ada.id,
                conversation_id: started.conversation.id,
                user_message_id: started.user_message_id,
                reply: "Glad to hear it".into(),
                model_info: info.clone(),
                user_sentiment: Some(sentiment.clone()),
                sentiment_state: Some(state.clone()),
            })
            .await
            .unwrap();
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(
            page.conversation.sentiment_state,
            Some(state),
            "{}",
            db.name
        );
        assert_eq!(page.messages[0].sentiment_data, Some(sentiment));
        assert_eq!(page.messages[1].model_info, Some(info));
        assert_eq!(page.messages[1].content, "Glad to hear it");
        assert!(page.messages[0].created_at < page.messages[1].created_at);
        db.finish().await;
    }
}

#[tokio::test]
async fn unicode_and_maximum_length_content_round_trip() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let unicode = "Héllo \"wörld\"\nline2 — 日本語 🎉 \u{0}nul? no: \\u0000";
        let unicode = unicode.replace('\u{0}', "");
        let longest = "é".repeat(MessageText::MAX_CHARS);
        let started = db.start(&ada, &unicode).await;
        db.exchange(&ada, &started, &longest).await;
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.messages[0].content, unicode, "{}", db.name);
        assert_eq!(page.messages[1].content, longest, "{}", db.name);
        let context = db
            .conversations
            .recent_messages(ada.id, started.conversation.id, 10)
            .await
            .unwrap();
        assert_eq!(context.len(), 3);
        assert_eq!(context[0].content, unicode);
        db.finish().await;
    }
}

#[tokio::test]
async fn context_is_the_last_messages_oldest_first_and_owner_scoped() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let started = db.start(&ada, "m0").await;
        for i in 1..8 {
            db.exchange(&ada, &started, &format!("m{i}")).await;
        }
        let context = db
            .conversations
            .recent_messages(ada.id, started.conversation.id, 4)
            .await
            .unwrap();
        let texts: Vec<&str> = context.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            texts,
            ["m6", "reply to m6", "m7", "reply to m7"],
            "{}",
            db.name
        );
        assert!(
            db.conversations
                .recent_messages(bob.id, started.conversation.id, 4)
                .await
                .unwrap()
                .is_empty()
        );
        db.finish().await;
    }
}
