//! Cumulative sequences through the service: the first-message rule, the LLM update, and the
//! weighted average when the LLM fails.

use lia_domain::{CumulativeSentiment, SentimentLabel, SentimentSource};
use lia_llm::testing::{Reply, openai_stream};
use lia_sentiment::SentimentMethod;

use crate::support::{service_with_llm, target};

#[tokio::test]
async fn first_message_then_llm_update_then_weighted_fallback() {
    let (service, upstream) = service_with_llm(
        vec![
            openai_stream(&[
                r#"{"score": 0.2, "label": "Positive", "summary": "User was excited, now calmer"}"#,
            ]),
            Reply::status(
                400,
                r#"{"error":{"message":"bad","type":"invalid_request_error","code":null}}"#,
            ),
        ],
        5_000,
    )
    .await;
    let target = target();
    let happy = service.lexicon("I am so happy today!");
    let (state, result) = service
        .update_cumulative(
            None,
            Some(&happy),
            "I am so happy today!",
            SentimentMethod::LlmSeparate,
            &target,
        )
        .await;
    assert_eq!(
        (state.count, result.source.clone()),
        (1, SentimentSource::Incremental)
    );
    assert_eq!(result.emotion.as_deref(), Some("joy"));
    assert!(
        upstream.requests().is_empty(),
        "the first message needs no LLM"
    );

    let calm = service.lexicon("ok");
    let (state, result) = service
        .update_cumulative(
            Some(&state),
            Some(&calm),
            "ok",
            SentimentMethod::LlmSeparate,
            &target,
        )
        .await;
    assert_eq!((state.count, state.score.value()), (2, 0.2));
    assert_eq!(
        result.summary.as_deref(),
        Some("User was excited, now calmer")
    );
    assert_eq!(result.source, SentimentSource::Incremental);
    let prompt: serde_json::Value = serde_json::from_str(&upstream.requests()[0].body).unwrap();
    assert!(
        prompt["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("over 1 messages")
    );

    let sad = service.lexicon("This is terrible, I hate it");
    let (next, result) = service
        .update_cumulative(
            Some(&state),
            Some(&sad),
            "This is terrible",
            SentimentMethod::LlmSeparate,
            &target,
        )
        .await;
    assert_eq!(result.source, SentimentSource::IncrementalFallback);
    let expected = (0.2 * 2.0 + sad.score.value()) / 3.0;
    assert!((next.score.value() - expected).abs() < 1e-4);
    assert_eq!(
        (next.count, next.summary.as_str()),
        (3, "User was excited, now calmer")
    );
    assert_eq!(service.fallback_count(), 1);
}

#[tokio::test]
async fn without_an_llm_method_the_average_is_used_and_fallback_results_do_not_move_it() {
    let (service, upstream) = service_with_llm(vec![], 5_000).await;
    let previous = CumulativeSentiment {
        summary: String::new(),
        score: lia_domain::SentimentScore::clamped(0.5),
        count: 2,
        label: SentimentLabel::Positive,
    };
    let negative = service.lexicon("awful, just awful");
    let (state, result) = service
        .update_cumulative(
            Some(&previous),
            Some(&negative),
            "",
            SentimentMethod::Lexicon,
            &target(),
        )
        .await;
    assert_eq!(
        (state.count, result.source),
        (3, SentimentSource::IncrementalFallback)
    );
    assert!(upstream.requests().is_empty());

    let failed = service
        .analyze(SentimentMethod::Lexicon, "", &target())
        .await;
    let mut fallback = failed.clone();
    fallback.source = SentimentSource::Fallback;
    let (kept, result) = service
        .update_cumulative(
            Some(&state),
            Some(&fallback),
            "",
            SentimentMethod::Lexicon,
            &target(),
        )
        .await;
    assert_eq!(
        (kept.score, kept.count, result.source),
        (state.score, 4, SentimentSource::IncrementalUnchanged)
    );
}
