//! `llm_separate` and `structured` against a fake OpenAI-compatible upstream: valid, fenced
//! and garbage answers, out-of-range scores, failures and timeouts.

use lia_domain::{SentimentLabel, SentimentSource};
use lia_llm::testing::{Reply, openai_stream};
use lia_sentiment::SentimentMethod;
use lia_sentiment::StructuredSentiment;

use crate::support::{service_with_llm, target};

#[tokio::test]
async fn a_valid_answer_becomes_the_result_with_a_normalised_label() {
    let (service, upstream) = service_with_llm(
        vec![openai_stream(&[
            r#"{"score": 0.8, "label": "positive", "#,
            r#""emotion": "joy"}"#,
        ])],
        5_000,
    )
    .await;
    let result = service
        .analyze(SentimentMethod::LlmSeparate, "I passed my exam!", &target())
        .await;
    assert_eq!(
        (result.score.value(), result.label),
        (0.8, SentimentLabel::Positive)
    );
    assert_eq!(
        (result.emotion.as_deref(), &result.source),
        (Some("joy"), &SentimentSource::LlmSeparate)
    );
    assert_eq!(result.details.model.as_deref(), Some("gpt-4o-mini"));

    let body: serde_json::Value = serde_json::from_str(&upstream.requests()[0].body).unwrap();
    assert_eq!(body["response_format"]["type"], "json_object");
    assert!((body["temperature"].as_f64().unwrap() - 0.1).abs() < 1e-6);
    assert_eq!(
        body["messages"][1]["content"], "I passed my exam!",
        "the text is data in the user turn"
    );
    assert!(
        !body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("I passed my exam!")
    );
    assert_eq!(service.fallback_count(), 0);
}

#[tokio::test]
async fn fenced_and_wrapped_answers_are_parsed_and_scores_clamped() {
    for (answer, score, label) in [
        (
            "```json\n{\"score\": -0.5, \"label\": \"Negative\", \"emotion\": \"sadness\"}\n```",
            -0.5,
            SentimentLabel::Negative,
        ),
        (
            "Sure! Here you go: {\"score\": \"0.3\"} Hope that helps.",
            0.3,
            SentimentLabel::Positive,
        ),
        (
            "{\"score\": 3.5, \"label\": \"ecstatic\"}",
            1.0,
            SentimentLabel::Positive,
        ),
        ("{\"score\": -7}", -1.0, SentimentLabel::Negative),
    ] {
        let (service, _upstream) = service_with_llm(vec![openai_stream(&[answer])], 5_000).await;
        let result = service
            .analyze(SentimentMethod::LlmSeparate, "text", &target())
            .await;
        assert_eq!(
            (result.score.value(), result.label),
            (score, label),
            "{answer}"
        );
        assert_eq!(result.source, SentimentSource::LlmSeparate);
    }
}

#[tokio::test]
async fn garbage_failures_and_timeouts_degrade_to_a_counted_neutral_fallback() {
    let cases = [
        (
            vec![openai_stream(&["I think the user is happy."])],
            5_000,
            "parse",
        ),
        (
            vec![Reply::status(
                401,
                r#"{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            )],
            5_000,
            "llm_unauthorized",
        ),
        (vec![Reply::Hang], 200, "timeout"),
    ];
    for (script, timeout_ms, kind) in cases {
        let (service, _upstream) = service_with_llm(script, timeout_ms).await;
        let started = std::time::Instant::now();
        let result = service
            .analyze(SentimentMethod::LlmSeparate, "text", &target())
            .await;
        assert_eq!(result.source, SentimentSource::Fallback, "{kind}");
        assert_eq!(
            (result.score.value(), result.label),
            (0.0, SentimentLabel::Neutral)
        );
        assert_eq!(result.details.error.as_deref(), Some(kind));
        assert_eq!(service.fallback_count(), 1);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{kind} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn structured_fields_are_validated_like_any_other_answer() {
    let (service, _upstream) = service_with_llm(vec![], 5_000).await;
    let fields = StructuredSentiment {
        score: Some(-0.4),
        label: Some("NEGATIVE".into()),
        emotion: Some("worry".into()),
    };
    let result = service.from_structured(Some(&fields), &target());
    assert_eq!(
        (result.label, result.source.clone()),
        (SentimentLabel::Negative, SentimentSource::Structured)
    );
    let missing = service.from_structured(Some(&StructuredSentiment::default()), &target());
    assert_eq!(missing.source, SentimentSource::Fallback);
    assert_eq!(
        service
            .from_structured(None, &target())
            .details
            .error
            .as_deref(),
        Some("parse")
    );
    assert_eq!(service.fallback_count(), 2);
}
