//! The chat stream end to end with the offline provider: frames, order, ids, persistence,
//! both request formats, validation, limits, resume and stop.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{
    chat, error_message, frontend_body, parse_frames, spawn_apps, spawn_apps_with, streamed_text,
};

#[tokio::test]
async fn a_turn_streams_in_order_and_is_stored_before_done() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let response = chat(
            &app,
            &ada.token,
            &frontend_body("I am so happy about my garden today!", None),
        )
        .await;
        assert_eq!(response.status(), 200, "{}", app.backend);
        let headers = response.headers().clone();
        assert_eq!(headers["content-type"], "text/event-stream; charset=utf-8");
        assert_eq!(headers["cache-control"], "no-cache");
        assert_eq!(headers["x-accel-buffering"], "no");
        assert_ne!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            Some("gzip")
        );
        let frames = parse_frames(&response.text().await.unwrap());

        let ids: Vec<u64> = frames.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            (1..=frames.len() as u64).collect::<Vec<_>>(),
            "ids are 1, 2, 3 ..."
        );
        let names: Vec<&str> = frames.iter().map(|f| f.event.as_str()).collect();
        assert_eq!(names.first(), Some(&"start"));
        assert_eq!(&names[names.len() - 2..], ["sentiment", "done"]);
        assert!(names[1..names.len() - 2].iter().all(|n| *n == "chunk"));
        let start = &frames[0].data;
        let conversation_id = start["conversation_id"].as_str().unwrap().to_owned();
        assert!(start["message_id"].is_i64() && start["stream_id"].is_string());
        let reply = streamed_text(&frames);
        let sentiment = &frames[frames.len() - 2].data;
        assert_eq!(sentiment["message"]["label"], "Positive");
        assert!(
            sentiment["message"].get("source").is_none(),
            "the stream carries the slim form"
        );
        assert_eq!(
            frames.last().unwrap().data,
            json!({"finish_reason": "stop"})
        );

        // Stored before `done`: the refetch the frontend does at once sees everything.
        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{conversation_id}"),
                &ada.token,
            )
            .await;
        assert_eq!(detail["title"], "I am so happy about my garden today!");
        let messages = detail["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0]["content"],
            "I am so happy about my garden today!"
        );
        assert_eq!(
            messages[0]["sentiment_data"]["message"]["source"], "llm_separate",
            "the full form is stored"
        );
        assert_eq!(
            messages[0]["sentiment_data"]["cumulative"]["label"],
            "Positive"
        );
        assert_eq!(messages[1]["content"], reply);
        assert_eq!(messages[1]["model_info"]["finish_reason"], "stop");
        assert_eq!(messages[1]["model_info"]["model"], "gemini-2.5-flash");
        let history: Value = app.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history[0]["message_count"], 2);

        // A second turn continues the conversation and keeps its title.
        let second = chat(
            &app,
            &ada.token,
            &frontend_body("Now I am worried about the weather", Some(&conversation_id)),
        )
        .await;
        let frames = parse_frames(&second.text().await.unwrap());
        assert_eq!(frames[0].data["conversation_id"], conversation_id);
        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{conversation_id}"),
                &ada.token,
            )
            .await;
        assert_eq!(
            (detail["total_messages"].as_u64(), detail["title"].as_str()),
            (Some(4), Some("I am so happy about my garden today!"))
        );
        assert_eq!(
            detail["messages"][2]["sentiment_data"]["cumulative"]["source"],
            "incremental"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_ai_sdk_format_and_structured_mode_are_accepted() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        let body = json!({
            "messages": [
                {"id": "1", "role": "user", "parts": [{"type": "text", "text": "first"}]},
                {"id": "2", "role": "assistant", "parts": [{"type": "text", "text": "reply"}]},
                {"id": "3", "role": "user", "parts": [{"type": "text", "text": "I love"}, {"type": "image", "text": null}, {"type": "text", "text": "this"}]},
            ],
            "sentiment_method": "structured",
            "id": "chat-1", "trigger": "submit-message",
        });
        let frames = parse_frames(&chat(&app, &ada.token, &body).await.text().await.unwrap());
        let reply = streamed_text(&frames);
        assert!(
            !reply.is_empty() && !reply.contains("sentiment_score"),
            "only the response text streams: {reply}"
        );
        let sentiment = &frames.iter().find(|f| f.event == "sentiment").unwrap().data;
        assert_eq!(sentiment["message"]["label"], "Positive");
        let id = frames[0].data["conversation_id"].as_str().unwrap();
        let detail: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{id}"), &ada.token)
            .await;
        assert_eq!(
            detail["messages"][0]["content"], "I love this",
            "the last user item's text parts, joined"
        );
        assert_eq!(
            detail["messages"][0]["sentiment_data"]["message"]["source"],
            "structured"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn invalid_requests_are_refused_before_the_stream_starts() {
    for app in spawn_apps().await {
        let (ada, bob) = (app.register("ada").await, app.register("bob").await);
        let foreign = app.seed_conversation(&bob, "Bob's", 2).await;
        let mut cases = vec![
            (json!({"messages": []}), 400, "message"),
            (
                json!({"messages": [{"id": "1", "role": "assistant", "parts": []}]}),
                400,
                "message",
            ),
            (json!({"message": "x".repeat(10_001)}), 422, "message"),
            (
                json!({"message": "hi", "provider": "anthropic"}),
                422,
                "provider",
            ),
            (
                json!({"message": "hi", "sentiment_method": "vibes"}),
                422,
                "sentiment_method",
            ),
            (
                json!({"message": "hi", "model_settings": {"temperature": 3}}),
                422,
                "temperature",
            ),
            (
                json!({"message": "hi", "model_settings": {"max_tokens": 0}}),
                422,
                "max_tokens",
            ),
            (
                json!({"message": "hi", "conversation_id": "not-a-uuid"}),
                422,
                "conversation_id",
            ),
            (
                json!({"message": "hi", "conversation_id": foreign.to_string()}),
                404,
                "conversation",
            ),
        ];
        cases.push((json!({"message": 5}), 422, "message"));
        for (body, status, what) in cases {
            let response = chat(&app, &ada.token, &body).await;
            assert_eq!(response.status(), status, "{what}: {body}");
            let response_body: Value = response.json().await.unwrap();
            assert!(response_body["error"]["message"].is_string(), "{what}");
        }
        let unauthenticated = app
            .http
            .post(app.url("/api/v1/chat/stream"))
            .json(&json!({"message": "hi"}))
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), 401);
        let bobs: Value = app
            .get_json(&format!("/api/v1/chat/conversation/{foreign}"), &bob.token)
            .await;
        assert_eq!(
            bobs["total_messages"], 2,
            "nothing was added to bob's conversation"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn the_chat_limit_answers_429_with_retry_after() {
    for app in spawn_apps_with(|settings| settings.rate_limits.chat_per_window = 2).await {
        let ada = app.register("ada").await;
        for _ in 0..2 {
            assert_eq!(
                chat(&app, &ada.token, &frontend_body("hi", None))
                    .await
                    .status(),
                200
            );
        }
        let limited = chat(&app, &ada.token, &frontend_body("hi", None)).await;
        assert_eq!(limited.status(), 429, "{}", app.backend);
        assert!(limited.headers().contains_key("retry-after"));
        app.finish().await;
    }
}

#[tokio::test]
async fn the_active_turn_cap_answers_429_per_user() {
    for app in spawn_apps_with(|settings| {
        settings.chat.turns.max_active_turns_per_user = 1;
        settings.llm.local.pace_ms = 200;
    })
    .await
    {
        let ada = app.register("ada").await;
        let first = chat(
            &app,
            &ada.token,
            &frontend_body("Tell me something long", None),
        )
        .await;
        assert_eq!(first.status(), 200);
        let second = chat(&app, &ada.token, &frontend_body("and another", None)).await;
        assert_eq!(second.status(), 429, "{}", app.backend);
        assert_eq!(
            error_message(second).await,
            "Too many active chat turns. Wait for one to finish."
        );
        let bob = app.register("bob").await;
        assert_eq!(
            chat(&app, &bob.token, &frontend_body("mine", None))
                .await
                .status(),
            200,
            "the cap is per user"
        );
        drop(first);
        app.finish().await;
    }
}

/// Reads frames from a live response until `count` have arrived, then drops the connection.
async fn read_then_disconnect(response: reqwest::Response, count: usize) -> String {
    let mut body = String::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        if body.matches("\n\n").count() >= count {
            break;
        }
    }
    body
}

#[tokio::test]
async fn a_disconnected_client_resumes_from_last_event_id_without_loss_or_duplication() {
    for app in spawn_apps_with(|settings| settings.llm.local.pace_ms = 30).await {
        let ada = app.register("ada").await;
        let response = chat(
            &app,
            &ada.token,
            &frontend_body("Why do you think my sister never calls me?", None),
        )
        .await;
        let early = read_then_disconnect(response, 3).await;
        let early_frames = parse_frames(&early[..early.rfind("\n\n").unwrap() + 2]);
        let stream_id = early_frames[0].data["stream_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let last_seen = early_frames.last().unwrap().id;

        let bob = app.register("bob").await;
        let stolen = app
            .get_as(&format!("/api/v1/chat/stream/{stream_id}"), &bob.token)
            .await;
        assert_eq!(stolen.status(), 404, "another user cannot re-attach");

        let resumed = app.resume_turn(&stream_id, &ada.token, last_seen).await;
        assert_eq!(resumed.status(), 200);
        let rest = parse_frames(&resumed.text().await.unwrap());
        assert_eq!(rest.first().unwrap().id, last_seen + 1, "nothing lost");
        let ids: Vec<u64> = early_frames.iter().chain(&rest).map(|f| f.id).collect();
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "nothing duplicated"
        );
        assert_eq!(rest.last().unwrap().event, "done");

        // After the turn ended, a replay from the start gives the whole turn again.
        let replay = app
            .get_as(
                &format!("/api/v1/chat/stream/{stream_id}?after=0"),
                &ada.token,
            )
            .await;
        assert_eq!(parse_frames(&replay.text().await.unwrap()).len(), ids.len());
        app.finish().await;
    }
}

#[tokio::test]
async fn a_turn_outlives_its_connection_and_is_stored() {
    for app in spawn_apps_with(|settings| settings.llm.local.pace_ms = 20).await {
        let ada = app.register("ada").await;
        let response = chat(
            &app,
            &ada.token,
            &frontend_body("I need help with my thesis about rivers", None),
        )
        .await;
        let early = read_then_disconnect(response, 2).await;
        let first = &parse_frames(&early[..early.rfind("\n\n").unwrap() + 2])[0];
        let conversation_id = first.data["conversation_id"].as_str().unwrap().to_owned();
        let stream_id = first.data["stream_id"].as_str().unwrap().to_owned();
        // Nobody follows the turn now; it goes on. Re-attaching later waits for its end, which
        // comes only after the reply is stored.
        let rest = app
            .get_as(
                &format!("/api/v1/chat/stream/{stream_id}?after=2"),
                &ada.token,
            )
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(parse_frames(&rest).last().unwrap().event, "done");
        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{conversation_id}"),
                &ada.token,
            )
            .await;
        assert_eq!(detail["total_messages"], 2, "{}", app.backend);
        assert_eq!(detail["messages"][1]["model_info"]["finish_reason"], "stop");
        app.finish().await;
    }
}

#[tokio::test]
async fn stop_ends_the_turn_and_stores_the_partial_reply() {
    for app in spawn_apps_with(|settings| settings.llm.local.pace_ms = 100).await {
        let ada = app.register("ada").await;
        let response = chat(
            &app,
            &ada.token,
            &frontend_body(
                "Can you tell me a long story about dragons and castles?",
                None,
            ),
        )
        .await;
        let mut chunks = response.bytes_stream();
        let mut body = String::new();
        while !body.contains("event: chunk") {
            body.push_str(&String::from_utf8_lossy(
                &chunks.next().await.unwrap().unwrap(),
            ));
        }
        let start = parse_frames(&body[..body.find("\n\n").unwrap() + 2]);
        let stream_id = start[0].data["stream_id"].as_str().unwrap();
        let conversation_id = start[0].data["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();

        let bob = app.register("bob").await;
        let foreign = app.stop_turn(stream_id, &bob.token).await;
        assert_eq!(foreign.status(), 404);
        let stopped = app.stop_turn(stream_id, &ada.token).await;
        assert_eq!(stopped.status(), 200);
        while let Some(chunk) = chunks.next().await {
            body.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        let frames = parse_frames(&body);
        assert_eq!(
            frames.last().unwrap().data,
            json!({"finish_reason": "stopped"})
        );
        let detail: Value = app
            .get_json(
                &format!("/api/v1/chat/conversation/{conversation_id}"),
                &ada.token,
            )
            .await;
        let reply = &detail["messages"][1];
        assert_eq!(reply["model_info"]["finish_reason"], "stopped");
        let streamed = streamed_text(&frames);
        assert_eq!(
            reply["content"], streamed,
            "exactly what was streamed is stored"
        );
        app.finish().await;
    }
}
