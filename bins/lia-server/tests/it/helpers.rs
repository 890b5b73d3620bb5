//! `spawn_app`: the real application on port 0 with a fresh database, plus typed helpers.

use std::sync::Arc;
use std::time::Duration;

use lia_domain::clock::ManualClock;

use lia_auth::HashingConfig;
use lia_domain::{ConversationId, Role, UserId};
use lia_server::{Application, Settings};
use lia_store::bulk::{ImportConversation, ImportMessage, import_conversations};
use lia_store::testing::ScratchDatabase;
use lia_store::{DatabaseConnection, StoreConfig};
use serde_json::{Value, json};

pub(crate) const SECRET: &str = "test-secret-that-is-at-least-32-characters";
pub(crate) const PASSWORD: &str = "Secret123";

pub(crate) struct TestApp {
    pub(crate) address: String,
    /// The `metrics.listen` listener's base URL, when one is configured.
    pub(crate) operations_address: Option<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) connection: DatabaseConnection,
    pub(crate) backend: &'static str,
    /// The settings it runs with (a second instance starts from them).
    pub(crate) settings: Settings,
    /// The service's wall clock (usage days, quota renewals), moved by tests.
    pub(crate) clock: Arc<ManualClock>,
    _dir: Option<tempfile::TempDir>,
    scratch: Option<ScratchDatabase>,
}

/// A registered user.
pub(crate) struct Account {
    pub(crate) id: UserId,
    pub(crate) token: String,
}

fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.auth.jwt_secret = Some(SECRET.into());
    settings.auth.hashing = HashingConfig {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 4,
        legacy_bcrypt_cost: 4,
    };
    settings.rate_limits.auth_per_window = 1_000;
    settings.rate_limits.chat_per_window = 1_000;
    settings.rate_limits.general_per_window = 10_000;
    settings.llm.local.pace_ms = 0;
    settings.database.max_connections = 4;
    settings
}

/// Where a test app keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Backend {
    /// A SQLite file in a temporary directory, the in-process cache.
    Sqlite,
    /// A scratch PostgreSQL database, and Redis when one is configured.
    Postgres { redis: Option<String> },
    /// A scratch PostgreSQL database reached through a transaction-mode pooler
    /// (`LIA_TEST_POOLER_URL`), and a Redis Cluster (`LIA_TEST_REDIS_CLUSTER_URL`): the
    /// scale-out pairing.
    ScaleOut { redis: String },
}

/// SQLite always; PostgreSQL (with Redis) when `LIA_TEST_DATABASE_URL` (and
/// `LIA_TEST_REDIS_URL`) are set, saying which are skipped.
pub(crate) fn backends() -> Vec<Backend> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut backends = vec![Backend::Sqlite];
    match set("LIA_TEST_DATABASE_URL") {
        Some(_) => {
            let redis = set("LIA_TEST_REDIS_URL");
            if redis.is_none() {
                println!(
                    "LIA_TEST_REDIS_URL is not set: PostgreSQL runs with the in-process cache"
                );
            }
            backends.push(Backend::Postgres { redis });
        }
        None => println!("LIA_TEST_DATABASE_URL is not set: skipping PostgreSQL (+ Redis)"),
    }
    backends
}

/// The app on every backend (see [`backends`]).
pub(crate) async fn spawn_apps() -> Vec<TestApp> {
    spawn_apps_with(|_| {}).await
}

/// The app on every backend, with `adjust`ed settings.
pub(crate) async fn spawn_apps_with(adjust: impl Fn(&mut Settings)) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for backend in backends() {
        apps.push(spawn_on(&backend, &adjust).await);
    }
    apps
}

/// The app on `backend`, with `adjust`ed settings.
pub(crate) async fn spawn_on(backend: &Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            settings.database.sqlite_path = dir.path().join("lia.db").display().to_string();
            adjust(&mut settings);
            start(settings, "sqlite", Some(dir), None).await
        }
        Backend::Postgres { redis } => {
            let name = if redis.is_some() {
                "postgres+redis"
            } else {
                "postgres"
            };
            let scratch = ScratchDatabase::create().await;
            on_postgres(scratch, redis.clone(), name, settings, adjust).await
        }
        Backend::ScaleOut { redis } => {
            let scratch = ScratchDatabase::create_behind_pooler().await;
            let name = "pgbouncer+redis-cluster";
            on_postgres(scratch, Some(redis.clone()), name, settings, adjust).await
        }
    }
}

async fn on_postgres(
    scratch: Option<ScratchDatabase>,
    redis: Option<String>,
    name: &'static str,
    mut settings: Settings,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    let scratch = scratch.expect("the test database server must answer");
    let reach = scratch.store_config();
    settings.database.database_url = reach.database_url;
    settings.database.migration_url = reach.migration_url;
    settings.database.pooler = reach.pooler;
    settings.cache.redis_url = redis.map(Into::into);
    settings.cache.key_prefix = format!("lia:test:{}:", uuid::Uuid::new_v4().simple());
    adjust(&mut settings);
    start(settings, name, None, Some(scratch)).await
}

/// Two instances sharing one PostgreSQL database and one Redis, as a deployment runs them, on
/// each shared pairing: PostgreSQL + Redis directly (`LIA_TEST_DATABASE_URL` and
/// `LIA_TEST_REDIS_URL`), and through a transaction-mode pooler + Redis Cluster
/// (`LIA_TEST_POOLER_URL` and `LIA_TEST_REDIS_CLUSTER_URL` as well). Says which it skips.
pub(crate) async fn spawn_pairs(adjust: impl Fn(&mut Settings)) -> Vec<(TestApp, TestApp)> {
    let mut pairs = Vec::new();
    for backend in shared_backends() {
        let first = spawn_on(&backend, &adjust).await;
        let mut settings = first.settings.clone();
        settings.server.port = 0;
        let name = match backend {
            Backend::ScaleOut { .. } => "pgbouncer+redis-cluster (second instance)",
            _ => "postgres+redis (second instance)",
        };
        let second = start(settings, name, None, None).await;
        pairs.push((first, second));
    }
    pairs
}

/// The pairings two instances can share (see [`spawn_pairs`]).
fn shared_backends() -> Vec<Backend> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut shared = Vec::new();
    match (set("LIA_TEST_DATABASE_URL"), set("LIA_TEST_REDIS_URL")) {
        (Some(_), Some(redis)) => shared.push(Backend::Postgres { redis: Some(redis) }),
        _ => println!(
            "skipping two instances on PostgreSQL + Redis: it needs LIA_TEST_DATABASE_URL and LIA_TEST_REDIS_URL"
        ),
    }
    match (
        set("LIA_TEST_DATABASE_URL"),
        set("LIA_TEST_POOLER_URL"),
        set("LIA_TEST_REDIS_CLUSTER_URL"),
    ) {
        (Some(_), Some(_), Some(redis)) => shared.push(Backend::ScaleOut { redis }),
        _ => println!(
            "skipping two instances behind a pooler on Redis Cluster: it needs LIA_TEST_DATABASE_URL, LIA_TEST_POOLER_URL and LIA_TEST_REDIS_CLUSTER_URL"
        ),
    }
    shared
}

async fn start(
    settings: Settings,
    backend: &'static str,
    dir: Option<tempfile::TempDir>,
    scratch: Option<ScratchDatabase>,
) -> TestApp {
    // The test's own queries go straight to the database, past any pooler.
    let store = StoreConfig {
        max_connections: 2,
        database_url: settings
            .database
            .migration_url
            .clone()
            .or_else(|| settings.database.database_url.clone()),
        pooler: lia_store::Pooler::None,
        ..settings.database.clone()
    };
    let clock = Arc::new(ManualClock::at(time::OffsetDateTime::now_utc()));
    let application = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let operations_address = application
        .operations_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(application.run_until_stopped());
    let connection = lia_store::connect(&store).await.unwrap();
    // Built by lia-llm so the process-wide TLS provider (ring) is installed first.
    let http = lia_llm::providers::http::client(Duration::from_secs(5)).unwrap();
    TestApp {
        address,
        operations_address,
        http,
        connection,
        backend,
        settings,
        clock,
        _dir: dir,
        scratch,
    }
}

impl TestApp {
    pub(crate) async fn finish(self) {
        let _ = self.connection.close().await;
        if let Some(scratch) = self.scratch {
            scratch.drop_database().await;
        }
    }

    /// Now, by the service's clock.
    pub(crate) fn clock_now(&self) -> time::OffsetDateTime {
        use lia_domain::clock::Clock as _;
        self.clock.now()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A request with the token in the cookie, as the frontend sends it.
    pub(crate) fn with_cookie(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("Cookie", format!("access_token={token}"))
    }

    pub(crate) async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.with_cookie(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
    }

    /// GET `path` without credentials, as JSON.
    pub(crate) async fn public_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The Prometheus text of `/metrics` (as a loopback client, which needs no token).
    pub(crate) async fn metrics_text(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Asks to stop the turn `stream_id` as the holder of `token`.
    pub(crate) async fn stop_turn(&self, stream_id: &str, token: &str) -> reqwest::Response {
        self.with_cookie(
            reqwest::Method::POST,
            &format!("/api/v1/chat/stream/{stream_id}/stop"),
            token,
        )
        .send()
        .await
        .unwrap()
    }

    /// Re-attaches to a turn's stream as the holder of `token`, after event `last_seen`.
    pub(crate) async fn resume_turn(
        &self,
        stream_id: &str,
        token: &str,
        last_seen: u64,
    ) -> reqwest::Response {
        self.with_cookie(
            reqwest::Method::GET,
            &format!("/api/v1/chat/stream/{stream_id}"),
            token,
        )
        .header("Last-Event-ID", last_seen.to_string())
        .send()
        .await
        .unwrap()
    }

    /// GET `path` as the holder of `token`, as JSON.
    pub(crate) async fn get_json(&self, path: &str, token: &str) -> Value {
        self.get_as(path, token).await.json().await.unwrap()
    }

    pub(crate) async fn register(&self, name: &str) -> Account {
        let response = self
            .post_json("/api/v1/auth/register", &json!({"email": format!("{name}@example.com"), "username": name, "password": PASSWORD}))
            .await;
        assert_eq!(response.status(), 201, "registering {name}");
        let body: Value = response.json().await.unwrap();
        Account {
            id: UserId(i32::try_from(body["user"]["id"].as_i64().unwrap()).unwrap()),
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A conversation of `user` with `n_messages` alternating user/assistant messages `m0..`.
    pub(crate) async fn seed_conversation(
        &self,
        user: &Account,
        title: &str,
        n_messages: usize,
    ) -> ConversationId {
        let base = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        let messages = (0..n_messages)
            .map(|i| ImportMessage {
                role: if i % 2 == 0 {
                    Role::User
                } else {
                    Role::Assistant
                },
                content: format!("m{i}"),
                created_at: base + time::Duration::seconds(i as i64),
            })
            .collect();
        let conversation = ImportConversation {
            user_id: user.id,
            title: Some(title.into()),
            created_at: base,
            messages,
        };
        import_conversations(&self.connection, vec![conversation])
            .await
            .unwrap()[0]
    }
}

/// One parsed SSE frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// The text the `chunk` frames among `frames` streamed, in order.
pub(crate) fn streamed_text<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> String {
    frames
        .into_iter()
        .filter(|f| f.event == "chunk")
        .map(|f| f.data["content"].as_str().unwrap())
        .collect()
}

/// Parses a whole event-stream body, checking the exact frame format on the way: three
/// lines (`id`, `event`, one `data`), LF only, each frame ending with a blank line.
pub(crate) fn parse_frames(body: &str) -> Vec<Frame> {
    assert!(!body.contains('\r'), "no CR in an event stream");
    assert!(
        body.is_empty() || body.ends_with("\n\n"),
        "the last frame ends with a blank line"
    );
    body.split("\n\n")
        .filter(|block| !block.is_empty() && !block.starts_with(':'))
        .map(|block| {
            let lines: Vec<&str> = block.split('\n').collect();
            assert_eq!(lines.len(), 3, "frame {block:?}");
            let id = lines[0].strip_prefix("id: ").unwrap().parse().unwrap();
            let event = lines[1].strip_prefix("event: ").unwrap().to_owned();
            let data = serde_json::from_str(lines[2].strip_prefix("data: ").unwrap()).unwrap();
            Frame { id, event, data }
        })
        .collect()
}

/// Sends a chat request as the frontend does and returns the response.
pub(crate) async fn chat(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.with_cookie(reqwest::Method::POST, "/api/v1/chat/stream", token)
        .header("Accept", "text/event-stream")
        .json(body)
        .send()
        .await
        .unwrap()
}

/// The frontend's request body for `message`.
pub(crate) fn frontend_body(message: &str, conversation_id: Option<&str>) -> Value {
    let mut body = json!({
        "message": message,
        "sentiment_method": "llm_separate",
        "provider": "gemini",
        "model": "gemini-2.5-flash",
        "model_settings": {"temperature": 0.7, "max_tokens": 8192, "top_p": 1, "frequency_penalty": 0, "presence_penalty": 0},
    });
    if let Some(id) = conversation_id {
        body["conversation_id"] = json!(id);
    }
    body
}

/// The JSON error message of a response.
pub(crate) async fn error_message(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts that `early` then `rest` number their events 1, 2, 3, ... with none lost or
/// repeated, and that the last is `done` with `finish_reason`.
pub(crate) fn assert_continuous(early: &[Frame], rest: &[Frame], finish_reason: &str) {
    let ids: Vec<u64> = early.iter().chain(rest).map(|f| f.id).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "no event lost or repeated"
    );
    let last = rest.last().unwrap();
    assert_eq!(
        (last.event.as_str(), last.data["finish_reason"].as_str()),
        ("done", Some(finish_reason))
    );
}
