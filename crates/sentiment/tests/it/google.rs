//! `nlp_api` against a fake Google Cloud Natural Language endpoint, and without a key.

use lia_domain::{SentimentLabel, SentimentSource};
use lia_llm::testing::{Reply, Upstream};
use lia_sentiment::{SentimentConfig, SentimentMethod, SentimentService};

use crate::support::target;

fn keyed(upstream: &Upstream) -> SentimentService {
    let config = SentimentConfig {
        google_api_key: "g-key".into(),
        google_base_url: upstream.base_url.clone(),
        ..SentimentConfig::default()
    };
    SentimentService::new(&config, None)
}

#[tokio::test]
async fn the_document_sentiment_is_used_with_its_magnitude() {
    let upstream = Upstream::start(vec![Reply::status(
        200,
        r#"{"documentSentiment":{"magnitude":1.2,"score":-0.6},"language":"en"}"#,
    )])
    .await;
    let result = keyed(&upstream)
        .analyze(SentimentMethod::NlpApi, "This is awful.", &target())
        .await;
    assert_eq!(
        (result.score.value(), result.label, result.source.clone()),
        (-0.6, SentimentLabel::Negative, SentimentSource::NlpApi)
    );
    assert_eq!(result.details.magnitude, Some(1.2));
    assert_eq!(
        result.details.service.as_deref(),
        Some("Google Cloud Natural Language API")
    );
    let request = &upstream.requests()[0];
    assert!(
        request
            .head
            .starts_with("POST /v1/documents:analyzeSentiment ")
    );
    assert!(
        request
            .head
            .to_ascii_lowercase()
            .contains("x-goog-api-key: g-key")
    );
    assert!(request.body.contains("This is awful."));
}

#[tokio::test]
async fn an_api_error_is_a_fallback_and_no_key_means_the_lexicon() {
    let upstream = Upstream::start(vec![Reply::status(500, "oops")]).await;
    let service = keyed(&upstream);
    let result = service
        .analyze(SentimentMethod::NlpApi, "text", &target())
        .await;
    assert_eq!(
        (result.source.clone(), result.details.error.as_deref()),
        (SentimentSource::Fallback, Some("unavailable"))
    );
    assert_eq!(service.fallback_count(), 1);

    let unkeyed = SentimentService::new(&SentimentConfig::default(), None);
    let result = unkeyed
        .analyze(SentimentMethod::NlpApi, "What a lovely day!", &target())
        .await;
    assert_eq!(
        (result.source, result.label),
        (SentimentSource::Lexicon, SentimentLabel::Positive)
    );
    assert_eq!(
        unkeyed.methods(),
        [SentimentMethod::NlpApi, SentimentMethod::Lexicon],
        "no LLM, no LLM methods"
    );
}
