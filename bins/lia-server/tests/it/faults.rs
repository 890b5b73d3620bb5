//! The real binary under load while the services it depends on go away and come back:
//! a private `redis-server` stopped and started again, a private PostgreSQL cluster
//! restarted. Every request answers (a 503 is an answer), nothing is stored twice or half,
//! a client is never told `done` over a text that differs from what was stored, and the
//! server recovers by itself. The outages are triggered by counts of answered requests, not
//! by the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lia_store::testing::ScratchDatabase;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::Value;
use tokio::sync::Notify;

use crate::helpers::parse_frames;
use crate::process::{PrivatePostgres, PrivateRedis, ServerProcess, free_port, server_env};

/// What one request got.
#[derive(Debug)]
struct Answer {
    status: u16,
    /// For a 200: the conversation, the streamed text and the last event's name.
    turn: Option<(String, String, String)>,
}

/// Answers counted so far, and a wake-up for whoever waits on the count.
#[derive(Default)]
struct Progress {
    answered: AtomicUsize,
    changed: Notify,
}

impl Progress {
    async fn reach(&self, count: usize) {
        loop {
            let notified = self.changed.notified();
            if self.answered.load(Ordering::SeqCst) >= count {
                return;
            }
            notified.await;
        }
    }
}

/// `clients` clients each sending turns until `stop` answers were given in all.
async fn load(
    server: &ServerProcess,
    tokens: &[String],
    clients: usize,
    stop: usize,
    progress: &Arc<Progress>,
) -> Vec<Answer> {
    let work = (0..clients).map(|client| {
        let token = tokens[client % tokens.len()].clone();
        let progress = Arc::clone(progress);
        async move {
            let mut answers = Vec::new();
            let mut n = 0;
            while progress.answered.load(Ordering::SeqCst) < stop {
                n += 1;
                let answer = one_turn(
                    server,
                    &token,
                    &format!("client {client} turn {n}: how are you?"),
                )
                .await;
                answers.push(answer);
                progress.answered.fetch_add(1, Ordering::SeqCst);
                progress.changed.notify_waiters();
            }
            answers
        }
    });
    futures::future::join_all(work)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn one_turn(server: &ServerProcess, token: &str, message: &str) -> Answer {
    let response = tokio::time::timeout(Duration::from_secs(60), server.chat(token, message))
        .await
        .expect("a request that never answered");
    let status = response.status().as_u16();
    if status != 200 {
        return Answer { status, turn: None };
    }
    let body = tokio::time::timeout(Duration::from_secs(60), response.text())
        .await
        .expect("a stream that never ended")
        .unwrap_or_default();
    let frames = parse_frames(&body);
    let conversation = frames
        .first()
        .and_then(|f| f.data["conversation_id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let text: String = frames
        .iter()
        .filter(|f| f.event == "chunk")
        .map(|f| f.data["content"].as_str().unwrap_or_default())
        .collect();
    let last = frames.last().map(|f| f.event.clone()).unwrap_or_default();
    Answer {
        status,
        turn: Some((conversation, text, last)),
    }
}

/// Each conversation's messages as (role, content, finish reason).
async fn stored(url: &str) -> std::collections::HashMap<String, Vec<(String, String, String)>> {
    let connection = Database::connect(url).await.unwrap();
    let backend = connection.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT conversation_id::text AS c, role, content, model_info::text AS info FROM messages ORDER BY id"
        }
        _ => {
            "SELECT conversation_id AS c, role, content, model_info AS info FROM messages ORDER BY id"
        }
    };
    let rows = connection
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    let mut by_conversation: std::collections::HashMap<String, Vec<_>> = Default::default();
    for row in rows {
        let conversation: String = row.try_get("", "c").unwrap();
        let info: Option<String> = row.try_get("", "info").unwrap();
        let reason = info
            .and_then(|i| serde_json::from_str::<Value>(&i).ok())
            .and_then(|i| i["finish_reason"].as_str().map(str::to_owned))
            .unwrap_or_default();
        by_conversation.entry(conversation).or_default().push((
            row.try_get("", "role").unwrap(),
            row.try_get("", "content").unwrap(),
            reason,
        ));
    }
    let _ = connection.close().await;
    by_conversation
}

/// The checks both outages share; returns (answers, 200s, 503s, others) for the report.
async fn check(answers: &[Answer], url: &str, name: &str) -> (usize, usize, usize, usize) {
    let stored = stored(url).await;
    let mut counts = (answers.len(), 0, 0, 0);
    for answer in answers {
        match answer.status {
            200 => counts.1 += 1,
            503 => counts.2 += 1,
            _ => counts.3 += 1,
        }
        assert!(
            matches!(answer.status, 200 | 503),
            "{name}: an answer other than 200 or 503: {answer:?}"
        );
        let Some((conversation, text, last)) = &answer.turn else {
            continue;
        };
        assert!(
            last == "done" || last == "error",
            "{name}: a stream without a final event: {answer:?}"
        );
        let messages = stored.get(conversation).cloned().unwrap_or_default();
        let users = messages.iter().filter(|(role, ..)| role == "user").count();
        let replies: Vec<_> = messages
            .iter()
            .filter(|(role, ..)| role == "assistant")
            .collect();
        assert_eq!(
            users, 1,
            "{name}: the user message stored once: {messages:?}"
        );
        assert!(
            replies.len() <= 1,
            "{name}: a reply stored twice: {messages:?}"
        );
        if last == "done" {
            assert_eq!(
                replies.first().map(|(_, content, _)| content.as_str()),
                Some(text.as_str()),
                "{name}: told done over a text that differs from the stored one"
            );
        }
    }
    // No conversation was stored for a request that was refused.
    assert_eq!(
        stored.len(),
        counts.1,
        "{name}: one conversation per accepted turn"
    );
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_and_started_again_during_load() {
    let Some(scratch) = ScratchDatabase::create().await else {
        println!("skipping: it needs LIA_TEST_DATABASE_URL (Redis is private to the test)");
        return;
    };
    let mut redis = PrivateRedis::start().await;
    let server = ServerProcess::start(server_env(
        free_port(),
        &[
            ("DATABASE_URL", scratch.url.clone()),
            ("REDIS_URL", redis.url()),
            ("LIA__LLM__LOCAL__PACE_MS", "20".into()),
            ("LIA__CACHE__COMMAND_TIMEOUT_MS", "200".into()),
            ("LIA__RATE_LIMITS__ENABLED", "true".into()),
            ("LIA__RATE_LIMITS__CHAT_PER_WINDOW", "100000".into()),
            ("LIA__RATE_LIMITS__GENERAL_PER_WINDOW", "100000".into()),
            ("LIA__RATE_LIMITS__AUTH_PER_WINDOW", "100000".into()),
        ],
    ))
    .await;
    let tokens = vec![server.register("ada").await, server.register("bob").await];
    let progress = Arc::new(Progress::default());
    let outage = async {
        progress.reach(12).await;
        redis.stop();
        progress.reach(30).await;
        // During the outage, a login is refused as unavailable, not as the user's rate limit.
        let login = server
            .http
            .post(server.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "ada@example.com", "password": crate::helpers::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 503);
        let retry: u64 = login.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry <= 5, "a short Retry-After: {retry}");
        redis.restart().await;
    };
    let (answers, ()) = tokio::join!(load(&server, &tokens, 6, 60, &progress), outage);
    let counts = check(&answers, &scratch.url, "redis").await;
    println!(
        "redis outage: {} requests, {} streamed (200), {} refused (503), {} other",
        counts.0, counts.1, counts.2, counts.3
    );
    // Recovered by itself: turns work and the cache is healthy again.
    let after = one_turn(&server, &tokens[0], "and now?").await;
    assert_eq!(after.status, 200);
    assert_eq!(after.turn.unwrap().2, "done");
    let mut healthy = false;
    for _ in 0..100 {
        let cache: Value = server
            .http
            .get(server.url("/health/cache"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if cache["status"] == "healthy" {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "the cache came back");
    drop(server);
    scratch.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_during_load() {
    let Some(postgres) = PrivatePostgres::start().await else {
        return;
    };
    let server = ServerProcess::start(server_env(
        free_port(),
        &[
            ("DATABASE_URL", postgres.url()),
            ("LIA__LLM__LOCAL__PACE_MS", "20".into()),
            ("LIA__DATABASE__ACQUIRE_TIMEOUT_SECS", "2".into()),
            ("LIA__CHAT__STORE_RETRY_MS", "30000".into()),
        ],
    ))
    .await;
    let tokens = vec![server.register("ada").await, server.register("bob").await];
    let progress = Arc::new(Progress::default());
    let outage = async {
        progress.reach(12).await;
        postgres.stop();
        progress.reach(20).await;
        postgres.start_again();
    };
    let (answers, ()) = tokio::join!(load(&server, &tokens, 6, 60, &progress), outage);
    let counts = check(&answers, &postgres.url(), "postgres").await;
    println!(
        "postgres restart: {} requests, {} streamed (200), {} refused (503), {} other",
        counts.0, counts.1, counts.2, counts.3
    );
    let after = one_turn(&server, &tokens[0], "and now?").await;
    assert_eq!(after.status, 200, "recovered without a restart of Lia");
    assert_eq!(after.turn.unwrap().2, "done");
}
