//! The Gemini adapter over HTTP against the fake upstream, in Gemini's `alt=sse` format.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lia_llm::providers::gemini::{GeminiConfig, GeminiProvider};
use lia_llm::{
    ChatMessage, ChatRequest, ChatRole, FinishReason, LlmError, LlmProvider, Reliable, RetryPolicy,
    StreamEvent, TimeoutKind, Timeouts,
};

use lia_llm::testing::{Reply, Upstream};

pub(crate) fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 10,
        max_delay_ms: 50,
        jitter: false,
    }
}

fn provider(upstream: &Upstream, timeouts: Timeouts) -> Reliable {
    let config = GeminiConfig {
        api_key: "test-key".into(),
        base_url: upstream.base_url.clone(),
        ..GeminiConfig::default()
    };
    let gemini = GeminiProvider::new(config, Duration::from_secs(2)).unwrap();
    Reliable::new(Arc::new(gemini), fast_policy(), timeouts)
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            ChatMessage::new(ChatRole::System, "You are Lia."),
            ChatMessage::new(ChatRole::User, "Hi there"),
        ],
    )
}

pub(crate) async fn drain(
    provider: &dyn LlmProvider,
    request: &ChatRequest,
) -> (Vec<StreamEvent>, Option<LlmError>) {
    let mut events = Vec::new();
    let mut stream = match provider.stream(request).await {
        Ok(stream) => stream,
        Err(error) => return (events, Some(error)),
    };
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

pub(crate) fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|e| {
            if let StreamEvent::Text(t) = e {
                Some(t.as_str())
            } else {
                None
            }
        })
        .collect()
}

use lia_llm::testing::gemini_chunk as chunk;

fn happy_stream() -> Reply {
    Reply::sse(&[
        &chunk(r#"{"text":"Let me think","thought":true}"#, None),
        &chunk(r#"{"text":"Hello "}"#, None),
        &chunk(r#"{"text":"wörld \"quoted\"\n"}"#, Some("STOP")),
    ])
}

#[tokio::test]
async fn streams_text_and_thoughts_with_the_native_request_shape() {
    let upstream = Upstream::start(vec![happy_stream()]).await;
    let (events, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
    assert_eq!(error, None);
    assert_eq!(
        events.first(),
        Some(&StreamEvent::Thought("Let me think".into()))
    );
    assert_eq!(text_of(&events), "Hello wörld \"quoted\"\n");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Finished(FinishReason::Stop))
    );

    let requests = upstream.requests();
    assert_eq!(requests.len(), 1);
    let head = &requests[0].head;
    assert!(
        head.starts_with("POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse "),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-goog-api-key: test-key")
    );
    let body: serde_json::Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(
        body["systemInstruction"]["parts"][0]["text"],
        "You are Lia."
    );
    assert_eq!(body["contents"][0]["parts"][0]["text"], "Hi there");
    assert_eq!(body["generationConfig"]["maxOutputTokens"], 2048);
}

#[tokio::test]
async fn server_errors_are_retried_until_success() {
    let unavailable = Reply::status(
        503,
        r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#,
    );
    let upstream = Upstream::start(vec![unavailable.clone(), unavailable, happy_stream()]).await;
    let (events, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
    assert_eq!(error, None);
    assert_eq!(text_of(&events), "Hello wörld \"quoted\"\n");
    assert_eq!(upstream.requests().len(), 3);
}

#[tokio::test]
async fn rate_limits_honour_the_retry_delay() {
    let limited = Reply::Body {
        status: 429,
        headers: vec![("retry-after", "0.3".into())],
        body: r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#
            .into(),
    };
    let upstream = Upstream::start(vec![limited, happy_stream()]).await;
    let started = std::time::Instant::now();
    let (_, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
    assert_eq!(error, None);
    assert_eq!(upstream.requests().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn final_errors_are_not_retried_and_keep_their_kind() {
    let cases = [
        (
            Reply::status(
                400,
                r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#,
            ),
            "invalid_request",
        ),
        (
            Reply::status(
                403,
                r#"{"error":{"code":403,"message":"key","status":"PERMISSION_DENIED"}}"#,
            ),
            "unauthorized",
        ),
        (
            Reply::status(
                404,
                r#"{"error":{"code":404,"message":"models/nope is not found","status":"NOT_FOUND"}}"#,
            ),
            "model_not_found",
        ),
    ];
    for (reply, kind) in cases {
        let upstream = Upstream::start(vec![reply]).await;
        let (_, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
        assert_eq!(error.map(|e| e.kind()), Some(kind));
        assert_eq!(upstream.requests().len(), 1, "{kind} is not retried");
    }
}

#[tokio::test]
async fn a_connection_dropped_mid_stream_keeps_the_partial_text() {
    let dropping = Reply::Sse {
        events: vec![
            (Duration::ZERO, chunk(r#"{"text":"Partial "}"#, None)),
            (Duration::ZERO, chunk(r#"{"text":"never"}"#, None)),
        ],
        drop_after: Some(1),
    };
    let upstream = Upstream::start(vec![dropping, happy_stream()]).await;
    let (events, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
    assert_eq!(text_of(&events), "Partial ");
    assert_eq!(error.map(|e| e.kind()), Some("unavailable"));
    assert_eq!(upstream.requests().len(), 1, "never retried after a token");
}

#[tokio::test]
async fn malformed_chunks_are_protocol_errors() {
    let upstream = Upstream::start(vec![Reply::sse(&["{not json"])]).await;
    let (_, error) = drain(&provider(&upstream, Timeouts::default()), &request()).await;
    assert!(matches!(error, Some(LlmError::Protocol(_))), "{error:?}");
    assert_eq!(upstream.requests().len(), 1);
}

#[tokio::test]
async fn a_hanging_upstream_times_out_on_every_attempt() {
    let upstream = Upstream::start(vec![Reply::Hang]).await;
    let timeouts = Timeouts {
        first_token_ms: 150,
        ..Timeouts::default()
    };
    let (_, error) = drain(&provider(&upstream, timeouts), &request()).await;
    assert_eq!(error, Some(LlmError::Timeout(TimeoutKind::FirstToken)));
    assert_eq!(upstream.requests().len(), 3);
}

#[tokio::test]
async fn slow_tokens_pass_within_the_idle_limit_and_fail_beyond_it() {
    let slow = Reply::Sse {
        events: vec![
            (Duration::ZERO, chunk(r#"{"text":"one "}"#, None)),
            (
                Duration::from_millis(200),
                chunk(r#"{"text":"two"}"#, Some("STOP")),
            ),
        ],
        drop_after: None,
    };
    let upstream = Upstream::start(vec![slow.clone()]).await;
    let (events, error) = drain(
        &provider(
            &upstream,
            Timeouts {
                idle_ms: 1_000,
                ..Timeouts::default()
            },
        ),
        &request(),
    )
    .await;
    assert_eq!((text_of(&events).as_str(), error), ("one two", None));

    let upstream = Upstream::start(vec![slow]).await;
    let (events, error) = drain(
        &provider(
            &upstream,
            Timeouts {
                idle_ms: 50,
                ..Timeouts::default()
            },
        ),
        &request(),
    )
    .await;
    assert_eq!(
        (text_of(&events).as_str(), error),
        ("one ", Some(LlmError::Timeout(TimeoutKind::Idle)))
    );
}

#[tokio::test]
async fn complete_uses_generate_content() {
    let whole = Reply::status(
        200,
        &chunk(
            r#"{"text":"thinking","thought":true},{"text":"Done."}"#,
            Some("MAX_TOKENS"),
        ),
    );
    let upstream = Upstream::start(vec![whole]).await;
    let config = GeminiConfig {
        api_key: "k".into(),
        base_url: upstream.base_url.clone(),
        ..GeminiConfig::default()
    };
    let gemini = GeminiProvider::new(config, Duration::from_secs(2)).unwrap();
    let completion = gemini.complete(&request()).await.unwrap();
    assert_eq!(completion.text, "Done.");
    assert_eq!(completion.thoughts, ["thinking"]);
    assert_eq!(completion.finish_reason, Some(FinishReason::Length));
    assert!(
        upstream.requests()[0]
            .head
            .starts_with("POST /v1beta/models/gemini-2.5-flash:generateContent ")
    );
}

#[tokio::test]
async fn a_model_name_stays_one_path_segment_of_the_models_endpoint() {
    // The adapter is the last line of defence: even a name the edge would refuse cannot
    // move the request (and the API key it carries) to another Gemini endpoint.
    for (model, segment) in [
        ("../../v1beta/files?x=", "..%2F..%2Fv1beta%2Ffiles%3Fx%3D"),
        ("tunedModels/my model#1", "tunedModels%2Fmy%20model%231"),
    ] {
        let upstream = Upstream::start(vec![happy_stream()]).await;
        let mut request = request();
        request.model = model.into();
        let (_, error) = drain(&provider(&upstream, Timeouts::default()), &request).await;
        assert_eq!(error, None);
        let head = upstream.requests()[0].head.clone();
        let expected = format!("POST /v1beta/models/{segment}:streamGenerateContent?alt=sse ");
        assert!(head.starts_with(&expected), "{model}: {head}");
    }
}
