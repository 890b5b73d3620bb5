//! A sentiment service whose LLM is an OpenAI-compatible adapter on a fake upstream.

use std::sync::Arc;
use std::time::Duration;

use lia_llm::providers::openai::{OpenAiConfig, OpenAiProvider};
use lia_llm::testing::{Reply, Upstream};
use lia_llm::{ProviderRegistry, Reliable, RetryPolicy, Timeouts};
use lia_sentiment::{LlmTarget, SentimentConfig, SentimentService};

pub(crate) fn target() -> LlmTarget {
    LlmTarget {
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
    }
}

/// The service and the upstream answering its LLM calls with `script`.
pub(crate) async fn service_with_llm(
    script: Vec<Reply>,
    llm_timeout_ms: u64,
) -> (SentimentService, Upstream) {
    let upstream = Upstream::start(script).await;
    let config = OpenAiConfig {
        base_url: format!("{}/v1", upstream.base_url),
        ..OpenAiConfig::default()
    };
    let adapter = OpenAiProvider::new(config, Duration::from_secs(1)).unwrap();
    let policy = RetryPolicy {
        max_attempts: 2,
        base_delay_ms: 10,
        max_delay_ms: 10,
        jitter: false,
    };
    let mut registry = ProviderRegistry::empty("openai", "gpt-4o-mini");
    registry.insert(Arc::new(Reliable::new(
        Arc::new(adapter),
        policy,
        Timeouts::default(),
    )));
    let config = SentimentConfig {
        llm_timeout_ms,
        ..SentimentConfig::default()
    };
    (
        SentimentService::new(&config, Some(Arc::new(registry))),
        upstream,
    )
}
