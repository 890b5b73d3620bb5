//! A stop requested through the stream buffer (as another server instance would) ends the
//! turn, which stores its partial reply as `stopped`.

use std::time::Duration;

use futures::StreamExt;
use lia_chat::{GenerationSettings, SentimentMethod, TurnRequest};
use lia_domain::{ConversationRepository, MessageText, MessageWindow};
use lia_llm::LlmConfig;

use crate::support::chat_fixture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_from_another_instance_ends_the_turn_and_keeps_the_partial_reply() {
    let mut llm = LlmConfig::default();
    llm.local.pace_ms = 100;
    let fixture = chat_fixture(&llm).await;
    let (chat, buffer, user) = (&fixture.chat, &fixture.buffer, &fixture.user);
    let repository = fixture.sqlite.database.conversations();
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
