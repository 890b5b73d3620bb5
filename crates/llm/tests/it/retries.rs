//! The retry policy and timeouts, with tokio's paused clock so delays are exact.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use lia_llm::{
    ChatRequest, LlmError, LlmProvider, Reliable, RetryPolicy, StreamEvent, TimeoutKind, Timeouts,
};
use tokio::time::Instant;

use crate::gemini::drain;
use crate::scripted::{Script, ScriptedProvider};

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay_ms: 500,
        max_delay_ms: 8_000,
        jitter: false,
    }
}

fn reliable(scripts: Vec<Script>, timeouts: Timeouts) -> (Arc<ScriptedProvider>, Reliable) {
    let inner = Arc::new(ScriptedProvider::new(scripts));
    (Arc::clone(&inner), Reliable::new(inner, policy(), timeouts))
}

fn text(s: &str) -> Result<StreamEvent, LlmError> {
    Ok(StreamEvent::Text(s.to_owned()))
}

fn request() -> ChatRequest {
    ChatRequest::new("m", vec![])
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_exponential_backoff() {
    let unavailable = || Script::Fail(LlmError::Unavailable("503".into()));
    let (inner, provider) = reliable(
        vec![
            unavailable(),
            unavailable(),
            Script::Items(vec![text("ok")]),
        ],
        Timeouts::default(),
    );
    let started = Instant::now();
    let (events, error) = drain(&provider, &request()).await;
    assert_eq!(error, None);
    assert_eq!(events, [StreamEvent::Text("ok".into())]);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(500 + 1_000),
        "delays of 500 ms then 1 s"
    );
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_and_the_last_error_is_returned() {
    let (inner, provider) = reliable(
        vec![Script::Fail(LlmError::Unavailable("down".into()))],
        Timeouts::default(),
    );
    let (_, error) = drain(&provider, &request()).await;
    assert_eq!(error, Some(LlmError::Unavailable("down".into())));
    assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn errors_that_cannot_pass_are_not_retried() {
    for error in [
        LlmError::InvalidRequest("bad".into()),
        LlmError::Unauthorized("key".into()),
        LlmError::ModelNotFound("x".into()),
        LlmError::Protocol("garbage".into()),
    ] {
        let (inner, provider) = reliable(vec![Script::Fail(error.clone())], Timeouts::default());
        let started = Instant::now();
        assert_eq!(drain(&provider, &request()).await.1, Some(error));
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
        assert_eq!(started.elapsed(), Duration::ZERO);
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_replaces_a_shorter_backoff() {
    let limited = Script::Fail(LlmError::RateLimited {
        retry_after: Some(Duration::from_secs(7)),
    });
    let (inner, provider) = reliable(
        vec![limited, Script::Items(vec![text("ok")])],
        Timeouts::default(),
    );
    let started = Instant::now();
    assert_eq!(drain(&provider, &request()).await.1, None);
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    assert_eq!(started.elapsed(), Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_deadline_fails_at_once() {
    let limited = LlmError::RateLimited {
        retry_after: Some(Duration::from_secs(600)),
    };
    let (inner, provider) = reliable(
        vec![Script::Fail(limited.clone())],
        Timeouts {
            total_ms: 60_000,
            ..Timeouts::default()
        },
    );
    let started = Instant::now();
    assert_eq!(drain(&provider, &request()).await.1, Some(limited));
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn an_error_as_first_stream_item_is_retried_but_not_after_a_token() {
    let first_item_error = Script::Items(vec![Err(LlmError::Unavailable("reset".into()))]);
    let mid_stream = Script::Items(vec![
        text("partial "),
        Err(LlmError::Unavailable("reset".into())),
        text("never"),
    ]);
    let (inner, provider) = reliable(
        vec![
            first_item_error,
            mid_stream,
            Script::Items(vec![text("unused")]),
        ],
        Timeouts::default(),
    );
    let (events, error) = drain(&provider, &request()).await;
    assert_eq!(
        events,
        [StreamEvent::Text("partial ".into())],
        "the partial text is kept"
    );
    assert_eq!(
        error,
        Some(LlmError::Unavailable("reset".into())),
        "the mid-stream failure is reported, not retried"
    );
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn silence_before_the_first_token_times_out_and_is_retried() {
    let timeouts = Timeouts {
        first_token_ms: 1_000,
        ..Timeouts::default()
    };
    let (inner, provider) = reliable(
        vec![Script::Silent, Script::Items(vec![text("late")])],
        timeouts,
    );
    let started = Instant::now();
    let (events, error) = drain(&provider, &request()).await;
    assert_eq!((events.len(), error), (1, None));
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
    assert_eq!(started.elapsed(), Duration::from_millis(1_000 + 500));
}

#[tokio::test(start_paused = true)]
async fn idle_gaps_and_the_total_deadline_end_the_stream() {
    let silent_after_one = Script::Items(vec![text("a")]);
    let inner = Arc::new(ScriptedProvider::new(vec![silent_after_one]));
    // A stream that yields one token and then never ends.
    struct Stalling(Arc<ScriptedProvider>);
    #[async_trait::async_trait]
    impl LlmProvider for Stalling {
        fn name(&self) -> &str {
            "stalling"
        }
        fn models(&self) -> &[lia_llm::ModelDescriptor] {
            &[]
        }
        async fn stream(&self, request: &ChatRequest) -> Result<lia_llm::ChatStream, LlmError> {
            let head = self.0.stream(request).await?;
            Ok(Box::pin(head.chain(futures::stream::pending())))
        }
    }
    let idle = Reliable::new(
        Arc::new(Stalling(Arc::clone(&inner))),
        policy(),
        Timeouts {
            idle_ms: 2_000,
            ..Timeouts::default()
        },
    );
    let started = Instant::now();
    let (events, error) = drain(&idle, &request()).await;
    assert_eq!(
        (events.len(), error),
        (1, Some(LlmError::Timeout(TimeoutKind::Idle)))
    );
    assert_eq!(started.elapsed(), Duration::from_secs(2));

    let total = Reliable::new(
        Arc::new(Stalling(inner)),
        policy(),
        Timeouts {
            idle_ms: 60_000,
            total_ms: 5_000,
            ..Timeouts::default()
        },
    );
    let (_, error) = drain(&total, &request()).await;
    assert_eq!(error, Some(LlmError::Timeout(TimeoutKind::Total)));
}
