//! The real binary as a child process, real signals, and private Redis and PostgreSQL servers
//! that a test starts and stops itself (never the shared services other tests use).

use std::collections::HashMap;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use crate::helpers::SECRET;

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `lia-server`.
pub(crate) struct ServerProcess {
    child: Option<Child>,
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    /// Every line it logged so far; the watch wakes log waiters.
    log: Arc<Mutex<Vec<String>>>,
    logged: watch::Receiver<usize>,
}

/// The environment every test server gets: a known secret, cheap hashing, no rate limits,
/// a free port; `extra` on top.
pub(crate) fn server_env(port: u16, extra: &[(&str, String)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("PORT", port.to_string()),
        ("HOST", "127.0.0.1".into()),
        ("JWT_SECRET", SECRET.into()),
        ("RUST_LOG", "info".into()),
        ("LIA__RATE_LIMITS__ENABLED", "false".into()),
        ("LIA__AUTH__HASHING__MEMORY_KIB", "1024".into()),
        ("LIA__AUTH__HASHING__ITERATIONS", "1".into()),
        ("LIA__AUTH__HASHING__PARALLELISM", "1".into()),
        ("LIA__CHAT__MAX_ACTIVE_TURNS_PER_USER", "100".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (name, value) in extra {
        env.insert((*name).to_owned(), value.clone());
    }
    env
}

impl ServerProcess {
    /// Starts the binary with exactly `env` and waits until it answers `/health/live`.
    pub(crate) async fn start(env: HashMap<String, String>) -> Self {
        let port = env["PORT"].clone();
        let mut process = Self::spawn(env);
        process.base_url = format!("http://127.0.0.1:{port}");
        let started = tokio::time::Instant::now();
        loop {
            if let Ok(response) = process.http.get(process.url("/health/live")).send().await
                && response.status().is_success()
            {
                return process;
            }
            if let Some(status) = process
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "lia-server exited at start-up with {status}:\n{}",
                    process.logs()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "lia-server did not answer:\n{}",
                process.logs()
            );
            // Connecting is the event; a refused connection is retried shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Spawns the binary with `env` without waiting for it.
    pub(crate) fn spawn(env: HashMap<String, String>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lia-server"))
            .env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning lia-server");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (count, logged) = watch::channel(0);
        let count = Arc::new(count);
        // Logs go to standard output, start-up errors to standard error: both are read.
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().unwrap()),
            Box::new(child.stderr.take().unwrap()),
        ];
        for stream in streams {
            let (lines, count) = (Arc::clone(&log), Arc::clone(&count));
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let mut lines = lines.lock().unwrap();
                    lines.push(line);
                    count.send_replace(lines.len());
                }
            });
        }
        Self {
            child: Some(child),
            base_url: String::new(),
            http: lia_llm::providers::http::client(Duration::from_secs(10)).unwrap(),
            log,
            logged,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a real signal (`TERM`, `INT`, `KILL`).
    pub(crate) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s {name}");
    }

    /// Waits for the process to exit, up to `timeout`.
    pub(crate) async fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let waited = tokio::time::timeout(
            timeout,
            tokio::task::spawn_blocking(move || {
                let status = child.wait();
                (child, status)
            }),
        )
        .await;
        match waited {
            Ok(Ok((_, status))) => status.ok(),
            // Still running: it is killed when the handle drops (see `Drop`).
            _ => None,
        }
    }

    /// Everything logged so far.
    pub(crate) fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until a logged line contains `text`.
    pub(crate) async fn wait_for_log(&mut self, text: &str, timeout: Duration) {
        let seen = async {
            loop {
                if self
                    .log
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|line| line.contains(text))
                {
                    return;
                }
                if self.logged.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        if tokio::time::timeout(timeout, seen).await.is_err() {
            panic!("never logged {text:?}:\n{}", self.logs());
        }
    }

    /// Registers `name` and returns their token.
    pub(crate) async fn register(&self, name: &str) -> String {
        let body = serde_json::json!({"email": format!("{name}@example.com"), "username": name, "password": crate::helpers::PASSWORD});
        let response = self
            .http
            .post(self.url("/api/v1/auth/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Starts a chat turn as the holder of `token`; the response is still streaming.
    pub(crate) async fn chat(&self, token: &str, message: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/chat/stream"))
            .header("Cookie", format!("access_token={token}"))
            .json(&serde_json::json!({"message": message, "provider": "local", "sentiment_method": "lexicon"}))
            .send()
            .await
            .unwrap()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Reads `response` until `count` frames have arrived (or it ends); returns the raw text.
pub(crate) async fn read_frames(response: &mut reqwest::Response, count: usize) -> String {
    let mut body = String::new();
    while body.matches("\n\n").count() < count {
        match response.chunk().await {
            Ok(Some(chunk)) => body.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
    }
    body
}

/// A private `redis-server` on a free port, stopped when dropped.
pub(crate) struct PrivateRedis {
    child: Option<Child>,
    pub(crate) port: u16,
}

impl PrivateRedis {
    pub(crate) async fn start() -> Self {
        let mut redis = Self {
            child: None,
            port: free_port(),
        };
        redis.restart().await;
        redis
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it again (after [`Self::stop`]) on the same port, and waits until it answers.
    pub(crate) async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        for _ in 0..200 {
            let ping = Command::new("redis-cli")
                .args(["-p", &self.port.to_string(), "ping"])
                .output();
            if ping.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("PONG")) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the private redis-server did not start");
    }

    /// Kills it (its data is gone, as after a crash of a Redis that keeps nothing on disk).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private PostgreSQL cluster (`initdb`, `pg_ctl`) in a temporary directory on a free port,
/// run as the `postgres` user (PostgreSQL refuses to run as root); stopped when dropped.
pub(crate) struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    pub(crate) port: u16,
}

impl PrivatePostgres {
    /// `None` (saying so) where PostgreSQL's server binaries are not installed.
    pub(crate) async fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .find(|bin| bin.join("initdb").exists());
        let Some(bin) = bin else {
            println!("skipping: PostgreSQL's server binaries (initdb, pg_ctl) are not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let postgres = Self {
            dir,
            bin,
            port: free_port(),
        };
        Command::new("chown")
            .args([
                "-R",
                "postgres:postgres",
                &postgres.dir.path().display().to_string(),
            ])
            .status()
            .unwrap();
        postgres.as_postgres(&[
            postgres.bin.join("initdb").display().to_string().as_str(),
            "-D",
            &postgres.data(),
            "-A",
            "trust",
            "-U",
            "postgres",
        ]);
        postgres.pg_ctl("start");
        Some(postgres)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_postgres(&self, command: &[&str]) {
        let output = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .args(command)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.as_postgres(&[
            self.bin.join("pg_ctl").display().to_string().as_str(),
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &self.dir.path().join("log").display().to_string(),
            "-w",
            "-m",
            "fast",
            action,
        ]);
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it (fast: active connections are cut).
    pub(crate) fn stop(&self) {
        self.pg_ctl("stop");
    }

    /// Starts it again after [`Self::stop`], waiting until it accepts connections.
    pub(crate) fn start_again(&self) {
        self.pg_ctl("start");
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let options = format!("-p {}", self.port);
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args([
                "-D",
                &self.data(),
                "-o",
                &options,
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}
