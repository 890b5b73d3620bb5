//! The real binary across its life, with real signals: SIGTERM drains and exits 0, a second
//! signal exits at once, a taken port is one line and a non-zero status, and a turn whose
//! process was killed is recovered (on restart, or by another instance).

use std::time::{Duration, Instant};

use lia_store::testing::ScratchDatabase;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;

use crate::helpers::{assert_continuous, parse_frames, streamed_text};
use crate::process::{ServerProcess, free_port, read_frames, server_env};

fn sqlite_env(
    dir: &tempfile::TempDir,
    extra: &[(&str, String)],
) -> std::collections::HashMap<String, String> {
    let mut all = vec![(
        "LIA__DATABASE__SQLITE_PATH",
        dir.path().join("lia.db").display().to_string(),
    )];
    all.extend(extra.iter().cloned());
    server_env(free_port(), &all)
}

/// The stored assistant replies: (content, finish reason), oldest first.
async fn stored_replies(url: &str) -> Vec<(String, String)> {
    let connection = Database::connect(url).await.unwrap();
    let rows = connection
        .query_all_raw(Statement::from_string(
            connection.get_database_backend(),
            "SELECT content, model_info FROM messages WHERE role = 'assistant' ORDER BY id",
        ))
        .await
        .unwrap();
    let replies = rows
        .into_iter()
        .map(|row| {
            let content: String = row.try_get("", "content").unwrap();
            let info: Value = match row.try_get::<Value>("", "model_info") {
                Ok(value) => value,
                Err(_) => {
                    serde_json::from_str(&row.try_get::<String>("", "model_info").unwrap()).unwrap()
                }
            };
            (
                content,
                info["finish_reason"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let _ = connection.close().await;
    replies
}

async fn active_records(url: &str) -> i64 {
    let connection = Database::connect(url).await.unwrap();
    let row = connection
        .query_one_raw(Statement::from_string(
            connection.get_database_backend(),
            "SELECT COUNT(*) AS n FROM active_turns",
        ))
        .await
        .unwrap()
        .unwrap();
    let _ = connection.close().await;
    row.try_get("", "n").unwrap()
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("lia.db").display())
}

#[tokio::test]
async fn sigterm_on_an_idle_server_exits_0_within_2_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(sqlite_env(&dir, &[])).await;
    let signalled = Instant::now();
    server.signal("TERM");
    let status = server
        .wait(Duration::from_secs(2))
        .await
        .expect("still running 2 s after SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.logs());
    assert!(signalled.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn sigint_stops_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(sqlite_env(&dir, &[])).await;
    server.signal("INT");
    let status = server
        .wait(Duration::from_secs(2))
        .await
        .expect("still running after SIGINT");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_twenty_slow_turns_drains_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let grace = Duration::from_secs(3);
    let mut server = ServerProcess::start(sqlite_env(
        &dir,
        &[
            ("LIA__LLM__LOCAL__PACE_MS", "150".into()),
            (
                "LIA__SERVER__SHUTDOWN_GRACE_SECS",
                grace.as_secs().to_string(),
            ),
        ],
    ))
    .await;
    let token = server.register("ada").await;
    let mut turns = Vec::new();
    for n in 0..20 {
        let mut response = server
            .chat(
                &token,
                &format!("Tell me a very long story number {n} about the sea"),
            )
            .await;
        assert_eq!(response.status(), 200);
        let first = read_frames(&mut response, 2).await;
        turns.push((response, first));
    }
    let signalled = Instant::now();
    server.signal("TERM");
    // Draining: once the signal is taken, readiness is unavailable and no new turn is taken.
    server
        .wait_for_log("shutting down", Duration::from_secs(2))
        .await;
    let ready = server.http.get(server.url("/health/ready")).send().await;
    if let Ok(ready) = ready {
        assert_eq!(ready.status(), 503, "readiness during draining");
    }
    let readers = turns
        .into_iter()
        .map(|(mut response, mut body)| async move {
            while let Ok(Some(chunk)) = response.chunk().await {
                body.push_str(&String::from_utf8_lossy(&chunk));
            }
            body
        });
    let bodies = futures::future::join_all(readers).await;
    let status = server
        .wait(grace + Duration::from_secs(2))
        .await
        .expect("still running after the grace period");
    assert!(status.success(), "{status}:\n{}", server.logs());
    assert!(
        signalled.elapsed() <= grace + Duration::from_secs(1),
        "took {:?}",
        signalled.elapsed()
    );
    for body in &bodies {
        let frames = parse_frames(body);
        let last = frames.last().unwrap();
        assert_eq!(last.event, "done", "every client gets a final event");
        assert!(
            matches!(
                last.data["finish_reason"].as_str(),
                Some("stop" | "interrupted")
            ),
            "{}",
            last.data
        );
    }
    let replies = stored_replies(&sqlite_url(&dir)).await;
    assert_eq!(replies.len(), 20, "every turn stored");
    assert!(
        replies
            .iter()
            .all(|(_, reason)| reason == "stop" || reason == "interrupted")
    );
    assert_eq!(active_records(&sqlite_url(&dir)).await, 0);
}

#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(sqlite_env(
        &dir,
        &[
            ("LIA__LLM__LOCAL__PACE_MS", "1000".into()),
            ("LIA__SERVER__SHUTDOWN_GRACE_SECS", "60".into()),
        ],
    ))
    .await;
    let token = server.register("ada").await;
    let mut response = server.chat(&token, "Tell me a very long story").await;
    read_frames(&mut response, 2).await;
    server.signal("TERM");
    server
        .wait_for_log("shutting down", Duration::from_secs(5))
        .await;
    let second = Instant::now();
    server.signal("TERM");
    let status = server
        .wait(Duration::from_secs(2))
        .await
        .expect("still running after a second SIGTERM");
    assert_eq!(status.code(), Some(130), "{}", server.logs());
    assert!(second.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_taken_port_is_one_line_and_exit_status_3() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut env = sqlite_env(&dir, &[]);
    env.insert("PORT".into(), port.to_string());
    env.insert("RUST_LOG".into(), "error".into());
    let mut server = ServerProcess::spawn(env);
    let status = server
        .wait(Duration::from_secs(10))
        .await
        .expect("it exits");
    assert_eq!(status.code(), Some(3), "{}", server.logs());
    let logs = server.logs();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.contains("WARN"))
        .collect();
    assert_eq!(
        lines,
        [format!("lia-server: cannot bind 127.0.0.1:{port}: address in use").as_str()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_killed_with_its_process_is_recovered_as_interrupted_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let extra = [("LIA__LLM__LOCAL__PACE_MS", "200".to_owned())];
    let env = sqlite_env(&dir, &extra);
    let mut server = ServerProcess::start(env.clone()).await;
    let token = server.register("ada").await;
    let mut response = server
        .chat(&token, "Tell me a very long story about the sea")
        .await;
    let seen = read_frames(&mut response, 3).await;
    let frames = parse_frames(&seen[..seen.rfind("\n\n").unwrap() + 2]);
    let conversation_id = frames[0].data["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.signal("KILL");
    server.wait(Duration::from_secs(5)).await.expect("killed");
    drop(response);
    assert_eq!(
        active_records(&sqlite_url(&dir)).await,
        1,
        "the turn's record survived"
    );

    let mut again = ServerProcess::start(env).await;
    again
        .wait_for_log("recovered a turn", Duration::from_secs(10))
        .await;
    let detail: Value = again
        .http
        .get(again.url(&format!("/api/v1/chat/conversation/{conversation_id}")))
        .header("Cookie", format!("access_token={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["total_messages"], 2);
    assert_eq!(
        detail["messages"][1]["model_info"]["finish_reason"],
        "interrupted"
    );
    // What it consumed is estimated from what its clients were shown, prompt included.
    let reply = detail["messages"][1]["content"].as_str().unwrap();
    let usage = &detail["messages"][1]["model_info"]["usage"];
    assert_eq!(usage["source"], "estimated");
    assert_eq!(usage["completion_tokens"], lia_llm::estimate::tokens(reply));
    assert!(
        usage["prompt_tokens"].as_u64().unwrap()
            > u64::from(lia_llm::estimate::tokens(
                "Tell me a very long story about the sea"
            ))
    );
    assert_eq!(active_records(&sqlite_url(&dir)).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_whose_instance_is_killed_is_finished_by_the_other_exactly_once() {
    let redis = std::env::var("LIA_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let (Some(redis), Some(scratch)) = (redis, ScratchDatabase::create().await) else {
        println!("skipping: it needs LIA_TEST_DATABASE_URL and LIA_TEST_REDIS_URL");
        return;
    };
    let prefix = format!("lia:test:{}:", uuid::Uuid::new_v4().simple());
    let shared = [
        ("DATABASE_URL", scratch.url.clone()),
        ("REDIS_URL", redis.clone()),
        ("LIA__CACHE__KEY_PREFIX", prefix),
        ("LIA__LLM__LOCAL__PACE_MS", "150".into()),
        ("LIA__CHAT__LEASE_TTL_MS", "1500".into()),
        ("LIA__CHAT__LEASE_RENEW_MS", "250".into()),
        ("LIA__CHAT__MAX_ACTIVE_TURNS_PER_USER", "1".into()),
    ];
    let mut generating = ServerProcess::start(server_env(free_port(), &shared)).await;
    let mut survivor = ServerProcess::start(server_env(free_port(), &shared)).await;
    let token = generating.register("ada").await;
    let mut response = generating
        .chat(
            &token,
            "Tell me a very long story about dragons and castles",
        )
        .await;
    let seen = read_frames(&mut response, 4).await;
    let early = parse_frames(&seen[..seen.rfind("\n\n").unwrap() + 2]);
    let stream_id = early[0].data["stream_id"].as_str().unwrap().to_owned();
    let last_seen = early.last().unwrap().id;
    generating.signal("KILL");
    generating
        .wait(Duration::from_secs(5))
        .await
        .expect("killed");
    drop(response);

    // The client re-attaches on the survivor from its last event id.
    let resumed = survivor
        .http
        .get(survivor.url(&format!("/api/v1/chat/stream/{stream_id}")))
        .header("Cookie", format!("access_token={token}"))
        .header("Last-Event-ID", last_seen.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let rest = tokio::time::timeout(Duration::from_secs(30), resumed.text())
        .await
        .expect("the survivor ends the stream")
        .unwrap();
    let rest = parse_frames(&rest);
    assert_continuous(&early, &rest, "interrupted");
    survivor
        .wait_for_log("recovered a turn", Duration::from_secs(5))
        .await;

    let streamed = streamed_text(early.iter().chain(&rest));
    let replies = stored_replies(&scratch.url).await;
    assert_eq!(
        replies,
        [(streamed, "interrupted".to_owned())],
        "stored once, as shown"
    );
    assert_eq!(active_records(&scratch.url).await, 0, "the record is gone");
    // The lease is gone too: with a cap of one, the user may start a turn at once.
    let next = survivor.chat(&token, "Hello again").await;
    assert_eq!(next.status(), 200);
    drop(next);
    drop(survivor);
    scratch.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_otlp_endpoint_its_provider_calls_are_exported_by_the_time_it_exits() {
    let collector =
        lia_llm::testing::Upstream::start_cycling(vec![lia_llm::testing::Reply::status(200, "")])
            .await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(sqlite_env(
        &dir,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.base_url.clone()),
            ("OTEL_SERVICE_NAME", "lia-under-test".into()),
            ("LIA__LLM__LOCAL__PACE_MS", "0".into()),
        ],
    ))
    .await;
    let token = server.register("otel").await;
    let response = server.chat(&token, "I love my garden").await;
    assert_eq!(response.status(), 200);
    let frames = parse_frames(&response.text().await.unwrap());
    assert!(!streamed_text(&frames).is_empty());
    server.signal("TERM");
    let status = server
        .wait(Duration::from_secs(5))
        .await
        .expect("still running after SIGTERM");
    assert!(status.success(), "{status}:\n{}", server.logs());

    // The last batch is flushed at exit: no waiting on the collector after the process ends.
    let exported: String = collector
        .requests()
        .iter()
        .filter(|request| request.head.starts_with("POST /v1/traces"))
        .map(|request| request.body.as_str())
        .collect();
    for expected in [
        "lia-under-test",
        "chat lia-local",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.response.finish_reasons",
    ] {
        assert!(
            exported.contains(expected),
            "{expected} not exported ({} bytes)",
            exported.len()
        );
    }
}
