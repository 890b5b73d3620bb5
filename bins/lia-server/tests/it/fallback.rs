//! Provider fallback in a chat turn: the `start` event and the stored reply name who
//! answered; the circuit state is visible at `/health/providers` and in `/metrics`.

use lia_llm::testing::{Reply, Upstream};
use serde_json::Value;

use crate::chat_failures::body;
use crate::helpers::{backends, chat, parse_frames, spawn_on};

#[tokio::test]
async fn a_failing_provider_is_replaced_before_the_first_token_and_the_reply_says_so() {
    for backend in backends() {
        let upstream =
            Upstream::start_cycling(vec![Reply::status(503, r#"{"error":{"message":"down"}}"#)])
                .await;
        let base_url = format!("{}/v1", upstream.base_url);
        let app = spawn_on(&backend, move |settings| {
            settings.llm.openai.api_key = "sk-test".into();
            settings.llm.openai.base_url = base_url;
            settings.llm.retry.max_attempts = 1;
            settings.llm.circuit.failures = 1;
            settings.llm.circuit.cooldown_ms = 3_600_000;
            settings
                .llm
                .fallbacks
                .insert("openai".into(), vec!["local:lia-local".into()]);
        })
        .await;
        let ada = app.register("ada").await;
        let frames = parse_frames(
            &chat(&app, &ada.token, &body("Hello", None))
                .await
                .text()
                .await
                .unwrap(),
        );
        assert_eq!(frames[0].event, "start", "{}", app.backend);
        assert_eq!(frames[0].data["provider"], "local");
        assert_eq!(frames[0].data["model"], "lia-local");
        assert_eq!(frames.last().unwrap().event, "done");
        let id = frames[0].data["conversation_id"].as_str().unwrap();
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        let info = &detail["messages"][1]["model_info"];
        assert_eq!(info["provider"], "local");
        assert_eq!(info["model"], "lia-local");
        assert_eq!(info["fallback_from"], "openai:gpt-4.1-mini");

        // One failure opened the circuit: the next turn skips OpenAI entirely.
        chat(&app, &ada.token, &body("Again", None))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(upstream.requests().len(), 1, "skipped while open");
        let providers = app.public_json("/health/providers").await;
        let openai = providers["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "openai")
            .unwrap()
            .clone();
        assert_eq!(openai["state"], "open");
        assert_eq!(openai["consecutive_failures"], 1);
        let metrics = app.metrics_text().await;
        assert!(metrics.contains("lia_llm_circuit_open{provider=\"openai\"} 1"));
        assert!(metrics.contains("lia_llm_circuit_open{provider=\"local\"} 0"));
        app.finish().await;
    }
}
