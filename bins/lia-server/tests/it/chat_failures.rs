//! The chat stream against a fake OpenAI-compatible upstream: what the model is sent, and
//! provider or sentiment failures before and during the stream.

use std::time::Duration;

use lia_llm::testing::{Reply, Upstream, openai_delta, openai_stream};
use serde_json::{Value, json};

use crate::helpers::{TestApp, backends, chat, parse_frames, spawn_apps_with, spawn_on};

/// On every backend: an app whose OpenAI provider is a fake upstream playing `script`.
pub(crate) async fn apps_with_upstream(script: Vec<Reply>) -> Vec<(TestApp, Upstream)> {
    let mut apps = Vec::new();
    for backend in backends() {
        let upstream = Upstream::start(script.clone()).await;
        let base_url = format!("{}/v1", upstream.base_url);
        let app = spawn_on(&backend, move |settings| {
            settings.llm.openai.api_key = "sk-test".into();
            settings.llm.openai.base_url = base_url;
            settings.llm.retry.base_delay_ms = 10;
            settings.llm.retry.max_delay_ms = 20;
        })
        .await;
        apps.push((app, upstream));
    }
    apps
}

pub(crate) fn body(message: &str, conversation_id: Option<&str>) -> Value {
    let mut body = json!({"message": message, "provider": "openai", "model": "gpt-4.1-mini", "sentiment_method": "lexicon"});
    if let Some(id) = conversation_id {
        body["conversation_id"] = json!(id);
    }
    body
}

#[tokio::test]
async fn the_model_gets_the_system_prompt_and_the_conversation_so_far() {
    for (app, upstream) in apps_with_upstream(vec![
        openai_stream(&["Hello ", "Ada"]),
        openai_stream(&["Again"]),
    ])
    .await
    {
        let ada = app.register("ada").await;
        let frames = parse_frames(
            &chat(&app, &ada.token, &body("Hi, I'm Ada", None))
                .await
                .text()
                .await
                .unwrap(),
        );
        let conversation_id = frames[0].data["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        chat(
            &app,
            &ada.token,
            &body("What is my name?", Some(&conversation_id)),
        )
        .await
        .text()
        .await
        .unwrap();

        let requests = upstream.requests();
        assert_eq!(requests.len(), 2);
        let sent: Value = serde_json::from_str(&requests[1].body).unwrap();
        assert_eq!(
            sent["model"], "gpt-4.1-mini",
            "a model outside the catalogue is passed as given"
        );
        let messages: Vec<(String, String)> = sent["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_owned(),
                    m["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(messages[0].0, "system");
        assert!(messages[0].1.contains("You are Lia"));
        assert_eq!(
            messages[1..],
            [
                ("user".to_owned(), "Hi, I'm Ada".to_owned()),
                ("assistant".to_owned(), "Hello Ada".to_owned()),
                ("user".to_owned(), "What is my name?".to_owned()),
            ]
        );
        assert!((sent["temperature"].as_f64().unwrap() - 0.7).abs() < 1e-6);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_provider_failure_before_any_token_is_an_error_event_with_its_kind() {
    let refusal = Reply::status(
        401,
        r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
    );
    for (app, upstream) in apps_with_upstream(vec![refusal]).await {
        let ada = app.register("ada").await;
        let response = chat(&app, &ada.token, &body("hello?", None)).await;
        assert_eq!(
            response.status(),
            200,
            "the failure comes after the headers"
        );
        let frames = parse_frames(&response.text().await.unwrap());
        let names: Vec<&str> = frames.iter().map(|f| f.event.as_str()).collect();
        assert_eq!(names, ["start", "error"]);
        assert_eq!(frames[1].data["kind"], "unauthorized");
        assert!(
            frames[1].data["message"]
                .as_str()
                .unwrap()
                .contains("credentials")
        );
        assert_eq!(
            upstream.requests().len(),
            1,
            "auth failures are not retried"
        );
        let id = frames[0].data["conversation_id"].as_str().unwrap();
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        assert_eq!(
            detail["total_messages"], 1,
            "the user message is kept; no empty reply is stored"
        );
        assert_eq!(
            detail["messages"][0]["sentiment_data"]["message"]["label"], "Neutral",
            "{}: the message's sentiment is stored even though the reply failed",
            app.backend
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_failure_mid_stream_stores_the_partial_reply() {
    let dropping = Reply::Sse {
        events: vec![
            (Duration::ZERO, openai_delta("Partial ", None)),
            (Duration::ZERO, openai_delta("answer", None)),
            (Duration::ZERO, openai_delta("never", None)),
        ],
        drop_after: Some(2),
    };
    for (app, upstream) in apps_with_upstream(vec![dropping]).await {
        let ada = app.register("ada").await;
        let frames = parse_frames(
            &chat(&app, &ada.token, &body("Tell me", None))
                .await
                .text()
                .await
                .unwrap(),
        );
        let names: Vec<&str> = frames.iter().map(|f| f.event.as_str()).collect();
        assert_eq!(names, ["start", "chunk", "chunk", "error"]);
        assert_eq!(frames[3].data["kind"], "unavailable");
        assert_eq!(upstream.requests().len(), 1, "never retried after a token");
        let id = frames[0].data["conversation_id"].as_str().unwrap();
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        assert_eq!(detail["messages"][1]["content"], "Partial answer");
        assert_eq!(
            detail["messages"][1]["model_info"]["finish_reason"],
            "error"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_failing_or_slow_sentiment_never_breaks_the_stream() {
    let google = Upstream::start_cycling(vec![Reply::Hang]).await;
    let google_url = google.base_url.clone();
    for app in spawn_apps_with(move |settings| {
        settings.sentiment.google_api_key = "g".into();
        settings.sentiment.google_base_url = google_url.clone();
        settings.sentiment.google_timeout_ms = 200;
    })
    .await
    {
        let ada = app.register("ada").await;
        let started = std::time::Instant::now();
        let response = chat(
            &app,
            &ada.token,
            &json!({"message": "I love it", "sentiment_method": "nlp_api"}),
        )
        .await;
        let frames = parse_frames(&response.text().await.unwrap());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(frames.last().unwrap().event, "done");
        let sentiment = &frames[frames.len() - 2].data;
        assert_eq!(
            (
                sentiment["message"]["score"].as_f64(),
                sentiment["message"]["label"].as_str()
            ),
            (Some(0.0), Some("Neutral"))
        );
        let id = frames[0].data["conversation_id"].as_str().unwrap();
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        let stored = &detail["messages"][0]["sentiment_data"]["message"];
        assert_eq!(
            (
                stored["source"].as_str(),
                stored["details"]["error"].as_str()
            ),
            (Some("fallback"), Some("timeout"))
        );
        app.finish().await;
    }
    assert_eq!(
        google.requests().len(),
        backends().len(),
        "one call per backend, never retried"
    );
}
