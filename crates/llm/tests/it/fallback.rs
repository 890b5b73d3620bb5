//! Fallback chains and circuit breakers over real HTTP: an OpenAI-format primary and a
//! Gemini-format fallback, each a fake upstream playing a script.

use std::collections::BTreeMap;

use futures::StreamExt;
use lia_llm::testing::{Reply, Upstream, gemini_chunk, openai_delta};
use lia_llm::{
    ChatMessage, ChatRequest, ChatRole, CircuitConfig, CircuitState, LlmConfig, LlmError,
    ProviderRegistry, StreamEvent,
};

use crate::gemini::fast_policy;

fn request() -> ChatRequest {
    ChatRequest::new("gpt-4o", vec![ChatMessage::new(ChatRole::User, "Hi")])
}

fn openai_ok() -> Reply {
    Reply::sse(&[&openai_delta("From OpenAI", Some("stop")), "[DONE]"])
}

fn gemini_ok() -> Reply {
    Reply::sse(&[&gemini_chunk(r#"{"text":"From Gemini"}"#, Some("STOP"))])
}

fn unavailable() -> Reply {
    Reply::status(503, r#"{"error":{"message":"overloaded"}}"#)
}

/// A registry whose `openai:gpt-4o` falls back to `gemini:gemini-2.5-flash`.
fn registry(
    primary: &Upstream,
    fallback: &Upstream,
    adjust: impl FnOnce(&mut LlmConfig),
) -> ProviderRegistry {
    let mut config = LlmConfig {
        retry: fast_policy(),
        ..LlmConfig::default()
    };
    config.openai.api_key = "sk-test".into();
    config.openai.base_url = format!("{}/v1", primary.base_url);
    config.gemini.api_key = "g-test".into();
    config.gemini.base_url = fallback.base_url.clone();
    config.fallbacks = BTreeMap::from([(
        "openai:gpt-4o".to_owned(),
        vec!["gemini:gemini-2.5-flash".to_owned()],
    )]);
    adjust(&mut config);
    ProviderRegistry::from_config(&config, None).unwrap()
}

async fn text(registry: &ProviderRegistry) -> Result<(String, String, String), LlmError> {
    let opened = registry.open("openai", &request()).await?;
    let mut text = String::new();
    let mut stream = opened.stream;
    while let Some(event) = stream.next().await {
        if let StreamEvent::Text(piece) = event? {
            text.push_str(&piece);
        }
    }
    Ok((opened.provider, opened.model, text))
}

#[tokio::test]
async fn a_persistently_unavailable_primary_fails_over_after_its_retries() {
    let primary = Upstream::start_cycling(vec![unavailable()]).await;
    let fallback = Upstream::start(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |_| {});
    let (provider, model, text) = text(&registry).await.unwrap();
    assert_eq!(
        (provider.as_str(), model.as_str()),
        ("gemini", "gemini-2.5-flash")
    );
    assert_eq!(text, "From Gemini");
    assert_eq!(primary.requests().len(), 3, "its retries were spent first");
    assert!(
        fallback.requests()[0]
            .head
            .starts_with("POST /v1beta/models/gemini-2.5-flash:streamGenerateContent")
    );
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_deadline_fails_over_at_once() {
    let limited = Reply::Body {
        status: 429,
        headers: vec![("retry-after", "3600".to_owned())],
        body: r#"{"error":{"message":"slow down"}}"#.into(),
    };
    let primary = Upstream::start_cycling(vec![limited]).await;
    let fallback = Upstream::start(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |_| {});
    let (provider, _, _) = text(&registry).await.unwrap();
    assert_eq!(provider, "gemini");
    assert_eq!(
        primary.requests().len(),
        1,
        "an hour does not fit: no retry"
    );
}

#[tokio::test]
async fn a_primary_silent_past_the_first_token_timeout_fails_over() {
    let primary = Upstream::start_cycling(vec![Reply::Hang]).await;
    let fallback = Upstream::start(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |config| {
        config.first_token_timeout_ms = 200;
        config.retry.max_attempts = 1;
    });
    let (provider, _, text) = text(&registry).await.unwrap();
    assert_eq!(provider, "gemini");
    assert_eq!(text, "From Gemini");
}

#[tokio::test]
async fn never_after_the_first_chunk() {
    let cut = Reply::Sse {
        events: vec![
            (std::time::Duration::ZERO, openai_delta("Half an ", None)),
            (std::time::Duration::ZERO, openai_delta("answer", None)),
        ],
        drop_after: Some(1),
    };
    let primary = Upstream::start(vec![cut]).await;
    let fallback = Upstream::start_cycling(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |_| {});
    let error = text(&registry).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(
        fallback.requests().len(),
        0,
        "a shown token is never switched"
    );
}

#[tokio::test]
async fn without_a_chain_the_primarys_error_is_the_answer() {
    let primary = Upstream::start_cycling(vec![unavailable()]).await;
    let fallback = Upstream::start_cycling(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |config| config.fallbacks.clear());
    assert!(matches!(
        text(&registry).await,
        Err(LlmError::Unavailable(_))
    ));
    assert_eq!(fallback.requests().len(), 0);
}

#[tokio::test]
async fn an_open_circuit_skips_its_provider_until_a_trial_succeeds() {
    let primary = Upstream::start(vec![unavailable(), unavailable(), openai_ok()]).await;
    let fallback = Upstream::start_cycling(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |config| {
        config.retry.max_attempts = 1;
        config.circuit = CircuitConfig {
            failures: 2,
            cooldown_ms: 0,
        };
    });
    let state = |registry: &ProviderRegistry| {
        registry
            .circuits()
            .into_iter()
            .find(|(name, ..)| name == "openai")
            .map(|(_, state, failures)| (state, failures))
            .unwrap()
    };
    for _ in 0..2 {
        assert_eq!(text(&registry).await.unwrap().0, "gemini");
    }
    assert_eq!(primary.requests().len(), 2);
    // A zero cool-down lets the trial through at once: it succeeds and closes the circuit.
    assert_eq!(state(&registry).1, 2);
    assert_eq!(text(&registry).await.unwrap().0, "openai");
    assert_eq!(state(&registry), (CircuitState::Closed, 0));
}

#[tokio::test]
async fn while_open_the_provider_gets_no_request() {
    let primary = Upstream::start_cycling(vec![unavailable()]).await;
    let fallback = Upstream::start_cycling(vec![gemini_ok()]).await;
    let registry = registry(&primary, &fallback, |config| {
        config.retry.max_attempts = 1;
        config.circuit = CircuitConfig {
            failures: 2,
            cooldown_ms: 3_600_000,
        };
    });
    for _ in 0..5 {
        assert_eq!(text(&registry).await.unwrap().0, "gemini");
    }
    assert_eq!(primary.requests().len(), 2, "skipped once open");
    assert!(
        registry
            .circuits()
            .contains(&("openai".to_owned(), CircuitState::Open, 2))
    );
}
