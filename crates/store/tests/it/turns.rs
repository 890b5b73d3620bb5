//! The chat turn's transactions: load-or-create with the owner check, titles, the context as
//! the conversation stood, the turn's record claimed exactly once, replies with sentiment,
//! the cumulative update applied to the stored state, and what survives a failure.

use std::sync::Arc;

use lia_domain::ports::{FinishOutcome, FinishedTurn};
use lia_domain::{
    ConversationRepository, FinishReason, MessageSentiment, MessageText, MessageWindow, ModelInfo,
    RepositoryError, Role, SentimentResult, SentimentScore, SentimentSource,
};

use crate::support::{backends, finished_turn, new_turn};

#[tokio::test]
async fn first_message_creates_a_titled_conversation() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let text = "This is a fairly long first message that goes beyond fifty characters";
        let started = db.start(&ada, text).await;
        assert!(started.created);
        assert!(started.context.is_empty());
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
            .start_turn(new_turn(&bob, Some(started.conversation.id), "let me in"))
            .await;
        assert!(
            matches!(intrusion, Err(RepositoryError::NotFound)),
            "{}",
            db.name
        );
        let mut hijack = finished_turn(&bob, &started, Some("hijacked"), None);
        hijack.user_id = bob.id;
        // Bob cannot claim Ada's record under another stream id either.
        hijack.stream_id = format!("{}-x", bob.id);
        let reply = db.conversations.finish_turn(hijack).await;
        assert!(
            matches!(reply, Err(RepositoryError::NotFound)),
            "{}: {reply:?}",
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
async fn finishing_stores_reply_and_sentiment_together_and_claims_the_turn_once() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let started = db.start(&ada, "I love this!").await;
        let active = db.conversations.active_turns().await.unwrap();
        assert_eq!(active.len(), 1, "{}: recorded at start", db.name);
        assert_eq!(
            (active[0].stream_id.as_str(), active[0].user_message_id),
            (started.stream_id.as_str(), started.user_message_id)
        );
        let info = ModelInfo {
            provider: "openai".into(),
            model: "gpt-4o".into(),
            thoughts: Some(vec!["hmm".into(), "ok".into()]),
            finish_reason: Some(FinishReason::Stopped),
            fallback_from: None,
            usage: None,
        };
        let mut turn = finished_turn(&ada, &started, Some("Glad to hear it"), Some(0.8));
        if let Some(reply) = turn.reply.as_mut() {
            reply.model_info = info.clone();
        }
        let outcome = db.conversations.finish_turn(turn.clone()).await.unwrap();
        let FinishOutcome::Stored {
            reply_id: Some(_),
            cumulative: Some(cumulative),
        } = outcome
        else {
            panic!("{}: {outcome:?}", db.name);
        };
        // A retry of a commit that did happen stores nothing more.
        assert_eq!(
            db.conversations.finish_turn(turn).await.unwrap(),
            FinishOutcome::AlreadyFinished,
            "{}",
            db.name
        );
        assert!(db.conversations.active_turns().await.unwrap().is_empty());
        assert_eq!(
            db.conversations
                .active_turn(&started.stream_id)
                .await
                .unwrap(),
            None
        );
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.total_messages, 2, "{}: stored once", db.name);
        let state = page.conversation.sentiment_state.unwrap();
        assert_eq!((state.count, state.score.value()), (1, 0.8), "{}", db.name);
        let message =
            SentimentResult::with_source(SentimentScore::clamped(0.8), SentimentSource::Lexicon);
        assert_eq!(
            page.messages[0].sentiment_data,
            Some(MessageSentiment {
                message: Some(message),
                cumulative: Some(cumulative),
            })
        );
        assert_eq!(page.messages[1].model_info, Some(info));
        assert_eq!(page.messages[1].content, "Glad to hear it");
        assert!(page.messages[0].created_at < page.messages[1].created_at);
        db.finish().await;
    }
}

#[tokio::test]
async fn a_turn_without_a_reply_still_stores_the_message_sentiment() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let started = db.start(&ada, "Hello?").await;
        let outcome = db
            .conversations
            .finish_turn(finished_turn(&ada, &started, None, Some(-0.5)))
            .await
            .unwrap();
        assert!(matches!(
            outcome,
            FinishOutcome::Stored {
                reply_id: None,
                cumulative: Some(_)
            }
        ));
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.total_messages, 1, "{}: no empty reply", db.name);
        assert!(page.messages[0].sentiment_data.is_some(), "{}", db.name);
        assert_eq!(page.conversation.sentiment_state.unwrap().count, 1);
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_turns_of_one_conversation_lose_no_cumulative_update() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let first = db.start(&ada, "first").await;
        let mut turns = Vec::new();
        for i in 0..10 {
            turns.push(
                db.conversations
                    .start_turn(new_turn(
                        &ada,
                        Some(first.conversation.id),
                        &format!("q{i}"),
                    ))
                    .await
                    .unwrap(),
            );
        }
        let conversations = Arc::new(db.conversations.clone());
        let finishing: Vec<_> = turns
            .iter()
            .map(|turn| {
                let conversations = Arc::clone(&conversations);
                let finished: FinishedTurn = finished_turn(&ada, turn, Some("a"), Some(0.5));
                tokio::spawn(async move { conversations.finish_turn(finished).await })
            })
            .collect();
        for task in finishing {
            assert!(matches!(
                task.await.unwrap().unwrap(),
                FinishOutcome::Stored { .. }
            ));
        }
        let page = db
            .conversations
            .detail(ada.id, first.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(
            page.conversation.sentiment_state.unwrap().count,
            10,
            "{}: every update counted",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn the_context_is_the_conversation_before_the_new_message() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let started = db.start(&ada, "m0").await;
        for i in 1..8 {
            db.exchange(&ada, &started, &format!("m{i}")).await;
        }
        let mut turn = new_turn(&ada, Some(started.conversation.id), "m8");
        turn.context_limit = 4;
        let next = db.conversations.start_turn(turn).await.unwrap();
        let texts: Vec<&str> = next.context.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            texts,
            ["m6", "reply to m6", "m7", "reply to m7"],
            "{}",
            db.name
        );
        // Two turns in a row without replies: the second's context ends with the first.
        let other = db
            .conversations
            .start_turn(new_turn(&ada, Some(started.conversation.id), "m9"))
            .await
            .unwrap();
        assert_eq!(other.context.last().unwrap().content, "m8", "{}", db.name);
        assert!(
            matches!(
                db.conversations
                    .start_turn(new_turn(&bob, Some(started.conversation.id), "m10"))
                    .await,
                Err(RepositoryError::NotFound)
            ),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn unicode_and_maximum_length_content_round_trip() {
    for db in backends().await {
        let ada = db.user("ada").await;
        let unicode = "Héllo \"wörld\"\nline2 — 日本語 🎉 nul? no: \\u0000";
        let longest = "é".repeat(MessageText::MAX_CHARS);
        let started = db.start(&ada, unicode).await;
        let second = db.exchange(&ada, &started, &longest).await;
        assert_eq!(second.context[0].content, unicode, "{}", db.name);
        let page = db
            .conversations
            .detail(ada.id, started.conversation.id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.messages[0].content, unicode, "{}", db.name);
        assert_eq!(page.messages[1].content, longest, "{}", db.name);
        db.finish().await;
    }
}
