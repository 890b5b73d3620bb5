//! The OpenAI-compatible adapter over HTTP against the fake upstream, in the chat-completions
//! chunk format with `data: [DONE]`.

use std::sync::Arc;
use std::time::Duration;

use lia_llm::providers::openai::{OpenAiConfig, OpenAiProvider};
use lia_llm::{
    ChatMessage, ChatRequest, ChatRole, FinishReason, LlmConfig, LlmError, ProviderRegistry,
    Reliable, StreamEvent, Timeouts,
};

use crate::gemini::{drain, fast_policy, text_of};
use lia_llm::testing::{Reply, Upstream};

fn adapter(upstream: &Upstream) -> OpenAiProvider {
    let config = OpenAiConfig {
        api_key: "sk-test".into(),
        base_url: format!("{}/v1", upstream.base_url),
        ..OpenAiConfig::default()
    };
    OpenAiProvider::new(config, Duration::from_secs(2)).unwrap()
}

fn provider(upstream: &Upstream) -> Reliable {
    Reliable::new(
        Arc::new(adapter(upstream)),
        fast_policy(),
        Timeouts::default(),
    )
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "gpt-4.1-mini",
        vec![
            ChatMessage::new(ChatRole::System, "You are Lia."),
            ChatMessage::new(ChatRole::User, "Hi"),
        ],
    )
}

use lia_llm::testing::openai_delta as delta;

fn happy_stream() -> Reply {
    Reply::sse(&[
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"hmm"},"finish_reason":null}]}"#,
        &delta("Hello ", None),
        &delta("there", Some("stop")),
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        "[DONE]",
    ])
}

#[tokio::test]
async fn streams_chunks_until_done_with_the_request_shape_of_compatible_servers() {
    let upstream = Upstream::start(vec![happy_stream()]).await;
    let (events, error) = drain(&provider(&upstream), &request()).await;
    assert_eq!(error, None);
    assert_eq!(events.first(), Some(&StreamEvent::Thought("hmm".into())));
    assert_eq!(text_of(&events), "Hello there");
    assert!(events.contains(&StreamEvent::Finished(FinishReason::Stop)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::Usage(u) if u.prompt_tokens == 9))
    );

    let requests = upstream.requests();
    assert!(
        requests[0].head.starts_with("POST /v1/chat/completions "),
        "{}",
        requests[0].head
    );
    assert!(
        requests[0]
            .head
            .to_ascii_lowercase()
            .contains("authorization: bearer sk-test")
    );
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(
        body["model"], "gpt-4.1-mini",
        "the model id is passed as given"
    );
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["max_tokens"], 2048,
        "compatible servers get max_tokens"
    );
    assert_eq!(body["messages"][0]["role"], "system");
}

#[tokio::test]
async fn transient_statuses_are_retried_once_each_without_async_openais_own_retries() {
    let upstream = Upstream::start(vec![
        Reply::status(500, "internal"),
        Reply::Body {
            status: 429,
            headers: vec![("retry-after", "0.2".into())],
            body: r#"{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}"#.into(),
        },
        happy_stream(),
    ])
    .await;
    let started = std::time::Instant::now();
    let (events, error) = drain(&provider(&upstream), &request()).await;
    assert_eq!((text_of(&events).as_str(), error), ("Hello there", None));
    assert_eq!(upstream.requests().len(), 3);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn final_errors_keep_their_kind_after_one_attempt() {
    let cases = [
        (
            401,
            r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            "unauthorized",
        ),
        (
            404,
            r#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#,
            "model_not_found",
        ),
        (
            400,
            r#"{"error":{"message":"bad temperature","type":"invalid_request_error","code":null}}"#,
            "invalid_request",
        ),
    ];
    for (status, body, kind) in cases {
        let upstream = Upstream::start(vec![Reply::status(status, body)]).await;
        let (_, error) = drain(&provider(&upstream), &request()).await;
        assert_eq!(error.map(|e| e.kind()), Some(kind));
        assert_eq!(upstream.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_drop_mid_stream_is_reported_with_the_partial_text_kept() {
    let dropping = Reply::Sse {
        events: vec![
            (Duration::ZERO, delta("Partial ", None)),
            (Duration::ZERO, delta("never", None)),
        ],
        drop_after: Some(1),
    };
    let upstream = Upstream::start(vec![dropping]).await;
    let (events, error) = drain(&provider(&upstream), &request()).await;
    assert_eq!(text_of(&events), "Partial ");
    assert_eq!(error.map(|e| e.kind()), Some("unavailable"));
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn malformed_chunks_are_protocol_errors() {
    let upstream = Upstream::start(vec![Reply::sse(&["{\"choices\": [", "[DONE]"])]).await;
    let (_, error) = drain(&provider(&upstream), &request()).await;
    assert!(matches!(error, Some(LlmError::Protocol(_))), "{error:?}");
}

#[tokio::test]
async fn structured_mode_streams_only_the_response_text() {
    let upstream = Upstream::start(vec![Reply::sse(&[
        &delta("{\"response\": \"Hel", None),
        &delta("lo \\u00e", None),
        &delta("9\", \"sentiment_score\": 0.7, \"sentiment_label\": \"Positive\", \"sentiment_emotion\": \"joy\"}", Some("stop")),
        "[DONE]",
    ])])
    .await;
    let mut registry = ProviderRegistry::empty("openai", "gpt-4o");
    registry.insert(Arc::new(adapter(&upstream)));
    let mut structured = request();
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"response": {"type": "string"}, "sentiment_score": {"type": "number"}},
    });
    structured.format = lia_llm::ResponseFormat::Structured(lia_llm::StructuredOutput::streaming(
        schema.into(),
        "response",
    ));
    let completion = registry.complete("openai", &structured).await.unwrap();
    assert_eq!(completion.text, "Hello é");
    let document = completion.document.unwrap();
    assert_eq!(
        (&document["sentiment_score"], &document["sentiment_label"]),
        (&serde_json::json!(0.7), &serde_json::json!("Positive"))
    );
    let body: serde_json::Value = serde_json::from_str(&upstream.requests()[0].body).unwrap();
    assert_eq!(body["response_format"]["type"], "json_object");
    let _ = LlmConfig::default();
}
