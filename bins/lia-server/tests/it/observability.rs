//! Request ids, the metrics endpoint after matching traffic, and the OpenAPI document.

use serde_json::Value;

use crate::helpers::{chat, frontend_body, spawn_apps, spawn_apps_with};

#[tokio::test]
async fn request_ids_round_trip_or_are_generated() {
    for app in spawn_apps().await {
        let response = app
            .http
            .get(app.url("/health/live"))
            .header("X-Request-ID", "trace-abc.123")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-abc.123");
        let response = app
            .http
            .get(app.url("/health/live"))
            .header("X-Request-ID", "bad id with spaces")
            .send()
            .await
            .unwrap();
        let generated = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
        let error = app.http.get(app.url("/nope")).send().await.unwrap();
        assert!(
            error.headers().contains_key("x-request-id"),
            "errors carry one too"
        );
        app.finish().await;
    }
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in\n{text}"))
}

#[tokio::test]
async fn metrics_expose_each_series_after_matching_traffic() {
    for app in spawn_apps().await {
        let ada = app.register("ada").await;
        for _ in 0..2 {
            assert_eq!(
                app.get_as("/api/v1/chat/history", &ada.token)
                    .await
                    .status(),
                200
            );
        }
        chat(
            &app,
            &ada.token,
            &frontend_body("I love my new bike!", None),
        )
        .await
        .text()
        .await
        .unwrap();
        let text = app
            .http
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();

        assert_eq!(
            sample(
                &text,
                "lia_http_requests_total{route=\"/api/v1/chat/history\",method=\"GET\",status=\"200\"}"
            ),
            2.0
        );
        assert!(
            sample(
                &text,
                "lia_http_request_duration_seconds_count{route=\"/api/v1/chat/history\"}"
            ) >= 2.0
        );
        assert!(text.contains(
            "lia_http_request_duration_seconds_bucket{route=\"/api/v1/chat/stream\",le=\"+Inf\"}"
        ));
        assert_eq!(
            sample(&text, "lia_cache_misses_total{kind=\"history\"}"),
            1.0
        );
        assert_eq!(sample(&text, "lia_cache_hits_total{kind=\"history\"}"), 1.0);
        // Registration read the user, so the three authenticated requests that followed
        // within the profile cache's TTL (the service clock does not move) needed no read.
        assert_eq!(sample(&text, "lia_cache_hits_total{kind=\"profile\"}"), 3.0);
        assert_eq!(
            sample(&text, "lia_cache_misses_total{kind=\"profile\"}"),
            0.0
        );
        assert!(
            sample(
                &text,
                "lia_llm_attempts_total{provider=\"local\",outcome=\"ok\"}"
            ) >= 1.0
        );
        assert_eq!(sample(&text, "lia_chat_turns_total"), 1.0);
        assert_eq!(sample(&text, "lia_chat_turn_failures_total"), 0.0);
        assert_eq!(sample(&text, "lia_chat_active_turns"), 0.0);
        assert_eq!(sample(&text, "lia_sentiment_fallbacks_total"), 0.0);
        assert_eq!(sample(&text, "lia_background_task_failures_total"), 0.0);
        assert!(sample(&text, "lia_db_pool_connections{state=\"idle\"}") >= 0.0);
        assert!(text.contains("# TYPE lia_http_request_duration_seconds histogram"));
        app.finish().await;
    }
}

#[tokio::test]
async fn a_configured_token_protects_metrics() {
    for app in spawn_apps_with(|settings| {
        settings.http.metrics_token = Some("metrics-secret-0123456789".into())
    })
    .await
    {
        assert_eq!(
            app.http
                .get(app.url("/metrics"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        let wrong = app
            .http
            .get(app.url("/metrics"))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        let right = app
            .http
            .get(app.url("/metrics"))
            .bearer_auth("metrics-secret-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(right.status(), 200);
        assert!(
            right.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    for app in spawn_apps().await {
        let document: Value = app.public_json("/openapi.json").await;
        let paths = document["paths"].as_object().unwrap();
        assert_eq!(
            paths.len(),
            lia_api::openapi::OPERATIONS
                .iter()
                .map(|op| op.path)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
        for operation in lia_api::openapi::OPERATIONS {
            let path = operation
                .path
                .replace("{id}", &uuid::Uuid::new_v4().to_string())
                .replace("{stream_id}", "1-x");
            let method =
                reqwest::Method::from_bytes(operation.method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .http
                .request(method, app.url(&path))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{} {path}", operation.method);
            assert!(
                !(status == 404
                    && body.contains("\"Not found\"")
                    && !path.starts_with("/health/info")),
                "{} {path} is not routed",
                operation.method
            );
        }
        app.finish().await;
    }
}

/// Each invented HTTP method used to become a permanent series of its own, so a client could
/// grow `/metrics` without limit; they now share the `other` label.
#[tokio::test]
async fn invented_methods_do_not_grow_the_metrics() {
    for app in spawn_apps().await {
        let send = |n: usize| {
            let method = reqwest::Method::from_bytes(format!("BREW{n}").as_bytes()).unwrap();
            app.http
                .request(method, app.url("/api/v1/chat/history"))
                .send()
        };
        for n in 0..20 {
            send(n).await.unwrap();
        }
        // The first scrape adds the series of `/metrics` itself.
        app.metrics_text().await;
        let before = app.metrics_text().await.len();
        for n in 20..220 {
            send(n).await.unwrap();
        }
        let text = app.metrics_text().await;
        assert!(!text.contains("BREW"), "{}", app.backend);
        assert!(text.contains("method=\"other\""));
        // The counters' digits may grow; no new series may.
        assert!(text.len() < before + 200, "{} -> {}", before, text.len());
        app.finish().await;
    }
}

/// The real binary with JSON logs: the line a turn logs when it ends, after its response
/// began streaming, names the request's id (from the request span) and the turn's stream id
/// (from the turn's own span).
#[tokio::test]
async fn a_turns_own_log_lines_carry_the_request_id_and_the_stream_id() {
    use std::time::Duration;

    use crate::process::{ServerProcess, free_port, server_env};

    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("lia.db").display().to_string();
    let env = server_env(
        free_port(),
        &[
            ("LIA__DATABASE__SQLITE_PATH", sqlite),
            ("LIA__APP__LOG_JSON", "true".into()),
        ],
    );
    let mut server = ServerProcess::start(env).await;
    let token = server.register("ada").await;
    let body = server
        .http
        .post(server.url("/api/v1/chat/stream"))
        .header("Cookie", format!("access_token={token}"))
        .header("X-Request-ID", "turn-log-check")
        .json(&serde_json::json!({"message": "hello", "provider": "local", "sentiment_method": "lexicon"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let frames = crate::helpers::parse_frames(&body);
    let stream_id = frames[0].data["stream_id"].as_str().unwrap().to_owned();
    server
        .wait_for_log("turn finished", Duration::from_secs(10))
        .await;
    let logs = server.logs();
    let line: Value = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["fields"]["message"] == "turn finished")
        .unwrap_or_else(|| panic!("no JSON line for the turn:\n{logs}"));
    let spans = line["spans"].as_array().unwrap();
    let field = |name: &str| spans.iter().find_map(|span| span[name].as_str());
    assert_eq!(field("request_id"), Some("turn-log-check"), "{line}");
    assert_eq!(field("stream_id"), Some(stream_id.as_str()), "{line}");
}
