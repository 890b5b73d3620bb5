//! Two instances sharing one PostgreSQL database and one Redis, as a deployment runs them: a
//! turn generated on one is followed, resumed and stopped through the other.

use serde_json::Value;

use crate::helpers::{
    assert_continuous, chat, frontend_body, parse_frames, spawn_pairs, streamed_text,
};

/// Reads a live event stream until `count` frames have arrived; keeps the connection.
async fn frames_until(response: &mut reqwest::Response, count: usize, body: &mut String) {
    while body.matches("\n\n").count() < count {
        let chunk = response.chunk().await.unwrap().expect("stream ended early");
        body.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_is_resumed_and_stopped_through_another_instance() {
    for (first, second) in spawn_pairs(|settings| settings.llm.local.pace_ms = 100).await {
        let ada = first.register("ada").await;
        let mut generating = chat(
            &first,
            &ada.token,
            &frontend_body(
                "Tell me a very long story about dragons, castles and the sea",
                None,
            ),
        )
        .await;
        let mut early = String::new();
        frames_until(&mut generating, 3, &mut early).await;
        drop(generating);
        let early = parse_frames(&early[..early.rfind("\n\n").unwrap() + 2]);
        let stream_id = early[0].data["stream_id"].as_str().unwrap().to_owned();
        let conversation_id = early[0].data["conversation_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let last_seen = early.last().unwrap().id;

        // The other instance serves the re-attach from the shared stream buffer, live.
        let mut resumed = second.resume_turn(&stream_id, &ada.token, last_seen).await;
        assert_eq!(resumed.status(), 200);
        let mut live = String::new();
        frames_until(&mut resumed, 1, &mut live).await;

        // A stop through the other instance reaches the one generating.
        let stopped = second.stop_turn(&stream_id, &ada.token).await;
        assert_eq!(stopped.status(), 200);
        while let Some(chunk) = resumed.chunk().await.unwrap() {
            live.push_str(&String::from_utf8_lossy(&chunk));
        }
        let rest = parse_frames(&live);
        assert_continuous(&early, &rest, "stopped");

        // Stored once, as stopped, with what was streamed; visible from either instance.
        let streamed = streamed_text(early.iter().chain(&rest));
        for instance in [&first, &second] {
            let detail: Value = instance
                .get_json(
                    &format!("/api/v1/chat/conversation/{conversation_id}"),
                    &ada.token,
                )
                .await;
            assert_eq!(detail["total_messages"], 2);
            assert_eq!(detail["messages"][1]["content"], streamed.as_str());
            assert_eq!(
                detail["messages"][1]["model_info"]["finish_reason"],
                "stopped"
            );
        }
        second.finish().await;
        first.finish().await;
    }
}

#[tokio::test]
async fn writes_on_one_instance_are_seen_at_once_on_the_other() {
    for (first, second) in spawn_pairs(|_| {}).await {
        let ada = first.register("ada").await;
        let id = first.seed_conversation(&ada, "Before", 4).await;
        let detail_path = format!("/api/v1/chat/conversation/{id}");
        // Both instances have read (and cached) the history and the first page.
        for instance in [&first, &second] {
            let history: Value = instance.get_json("/api/v1/chat/history", &ada.token).await;
            assert_eq!(history[0]["title"], "Before", "{}", instance.backend);
            let detail: Value = instance.get_json(&detail_path, &ada.token).await;
            assert_eq!(detail["title"], "Before");
        }

        let renamed = first
            .with_cookie(
                reqwest::Method::PATCH,
                &format!("{detail_path}/rename"),
                &ada.token,
            )
            .json(&serde_json::json!({"title": "After"}))
            .send()
            .await
            .unwrap();
        assert_eq!(renamed.status(), 200);
        let history: Value = second.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history[0]["title"], "After", "{}", second.backend);
        let detail: Value = second.get_json(&detail_path, &ada.token).await;
        assert_eq!(detail["title"], "After");

        let deleted = second
            .with_cookie(reqwest::Method::DELETE, &detail_path, &ada.token)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), 200);
        let history: Value = first.get_json("/api/v1/chat/history", &ada.token).await;
        assert_eq!(history, serde_json::json!([]));
        assert_eq!(first.get_as(&detail_path, &ada.token).await.status(), 404);
        second.finish().await;
        first.finish().await;
    }
}
