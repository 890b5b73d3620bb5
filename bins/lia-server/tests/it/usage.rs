//! Token usage recorded on every stored reply: the provider's figures when the stream
//! completed, an estimate when it was cut short or the provider reports none, and the
//! `lia_llm_tokens_total` metric.

use std::time::Duration;

use lia_llm::estimate;
use lia_llm::testing::{Reply, openai_delta};
use serde_json::{Value, json};

use crate::chat_failures::{apps_with_upstream, body};
use crate::helpers::{TestApp, chat, frontend_body, parse_frames, spawn_apps, streamed_text};
use crate::process::read_frames;

/// The usage stored on the reply of the conversation a stream started.
async fn stored_usage(app: &TestApp, token: &str, frames_text: &str) -> Value {
    let frames = parse_frames(frames_text);
    let id = frames[0].data["conversation_id"].as_str().unwrap();
    let detail = app
        .get_json(&format!("/api/v1/chat/conversation/{id}"), token)
        .await;
    detail["messages"][1]["model_info"]["usage"].clone()
}

/// The usage chunk OpenAI sends last when `stream_options.include_usage` is set.
fn usage_chunk() -> String {
    r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":5,"total_tokens":26,"completion_tokens_details":{"reasoning_tokens":2}}}"#.to_owned()
}

#[tokio::test]
async fn a_completed_stream_records_the_providers_figures() {
    let script = vec![Reply::sse(&[
        &openai_delta("Hello ", None),
        &openai_delta("Ada", Some("stop")),
        &usage_chunk(),
        "[DONE]",
    ])];
    for (app, upstream) in apps_with_upstream(script).await {
        let ada = app.register("ada").await;
        let text = chat(&app, &ada.token, &body("Hi", None))
            .await
            .text()
            .await
            .unwrap();
        let sent: Value = serde_json::from_str(&upstream.requests()[0].body).unwrap();
        assert_eq!(sent["stream_options"]["include_usage"], true);
        assert_eq!(
            stored_usage(&app, &ada.token, &text).await,
            json!({"prompt_tokens": 21, "completion_tokens": 5, "reasoning_tokens": 2, "source": "provider"}),
            "{}",
            app.backend
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_stream_cut_before_its_usage_chunk_records_an_estimate() {
    let dropping = Reply::Sse {
        events: vec![
            (Duration::ZERO, openai_delta("Partial ", None)),
            (Duration::ZERO, openai_delta("answer", None)),
            (Duration::ZERO, usage_chunk()),
        ],
        drop_after: Some(2),
    };
    for (app, _upstream) in apps_with_upstream(vec![dropping]).await {
        let ada = app.register("ada").await;
        let text = chat(&app, &ada.token, &body("Tell me", None))
            .await
            .text()
            .await
            .unwrap();
        let usage = stored_usage(&app, &ada.token, &text).await;
        assert_eq!(usage["source"], "estimated", "{}", app.backend);
        assert_eq!(
            usage["completion_tokens"],
            estimate::tokens("Partial answer")
        );
        let prompt = usage["prompt_tokens"].as_u64().unwrap();
        assert!(
            prompt > u64::from(estimate::tokens("Tell me")),
            "the prompt counts the system prompt too: {prompt}"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn a_stopped_turn_records_what_it_consumed() {
    let slow = Reply::Sse {
        events: vec![
            (Duration::ZERO, openai_delta("First words", None)),
            (Duration::from_secs(600), openai_delta(" never sent", None)),
        ],
        drop_after: None,
    };
    for (app, _upstream) in apps_with_upstream(vec![slow]).await {
        let ada = app.register("ada").await;
        let mut response = chat(&app, &ada.token, &body("Go on", None)).await;
        let shown = read_frames(&mut response, 2).await;
        let frames = parse_frames(&shown);
        assert_eq!(frames[1].event, "chunk");
        let stream_id = frames[0].data["stream_id"].as_str().unwrap();
        let stopped = app.stop_turn(stream_id, &ada.token).await;
        assert_eq!(stopped.status(), 200);
        let rest = response.text().await.unwrap();
        let usage = stored_usage(&app, &ada.token, &format!("{shown}{rest}")).await;
        assert_eq!(usage["source"], "estimated", "{}", app.backend);
        assert_eq!(usage["completion_tokens"], estimate::tokens("First words"));
        assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_offline_provider_is_estimated_exactly_by_the_documented_rule_and_metered() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let mut lexicon = frontend_body("I love my new bike!", None);
        lexicon["sentiment_method"] = json!("lexicon");
        let text = chat(&app, &ada.token, &lexicon).await.text().await.unwrap();
        let frames = parse_frames(&text);
        let reply = streamed_text(&frames);
        let system = lia_chat::prompt::system_prompt(
            app.settings.chat.turns.system_prompt.as_deref(),
            false,
        );
        let prompt = estimate::tokens(&system)
            + estimate::tokens("I love my new bike!")
            + 2 * estimate::MESSAGE_OVERHEAD;
        let usage = stored_usage(&app, &ada.token, &text).await;
        assert_eq!(
            usage,
            json!({"prompt_tokens": prompt, "completion_tokens": estimate::tokens(&reply), "source": "estimated"}),
            "{}",
            app.backend
        );

        let metrics = app.metrics_text().await;
        let series = format!(
            "lia_llm_tokens_total{{provider=\"local\",model=\"gemini-2.5-flash\",kind=\"prompt\",source=\"estimated\"}} {prompt}"
        );
        assert!(metrics.contains(&series), "{series} not in\n{metrics}");

        // With the lexicon, the ledger holds exactly the reply's tokens.
        let ledger: Value = app.get_json("/api/v1/usage", &ada.token).await;
        assert_eq!(
            ledger["total"]["total_tokens"],
            usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
        );

        // A model outside the catalogue is counted, under `other`.
        let mut invented = frontend_body("Hello", None);
        invented["model"] = json!("my-private-model");
        chat(&app, &ada.token, &invented)
            .await
            .text()
            .await
            .unwrap();
        let metrics = app.metrics_text().await;
        assert!(metrics.contains("model=\"other\""), "{metrics}");
        assert!(!metrics.contains("my-private-model"));
        app.finish().await;
    }
}

#[tokio::test]
async fn llm_sentiment_calls_are_charged_to_the_turn() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        // `llm_separate`: one more LLM call, rating the message, made for this turn.
        let text = chat(
            &app,
            &ada.token,
            &frontend_body("I love my new bike!", None),
        )
        .await
        .text()
        .await
        .unwrap();
        let reply = stored_usage(&app, &ada.token, &text).await;
        let reply_tokens =
            reply["prompt_tokens"].as_u64().unwrap() + reply["completion_tokens"].as_u64().unwrap();
        let ledger: Value = app.get_json("/api/v1/usage", &ada.token).await;
        let charged = ledger["total"]["total_tokens"].as_u64().unwrap();
        let rating_prompt = u64::from(estimate::tokens("I love my new bike!"));
        assert!(
            charged > reply_tokens + rating_prompt,
            "the rating call is charged too: {charged} vs {reply_tokens} on {}",
            app.backend
        );
        assert_eq!(ledger["total"]["turns"], 1, "one reply");
        app.finish().await;
    }
}
