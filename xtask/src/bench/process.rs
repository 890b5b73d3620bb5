//! The server under test: built in release mode, started as a child process on a free
//! loopback port, measured through `/proc`, stopped when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::seed::Database;

/// A prebuilt server binary to measure instead of building this checkout
/// (`LIA_BENCH_SERVER=path`), so two builds can be run alternately on one noisy machine.
fn prebuilt() -> Option<std::path::PathBuf> {
    std::env::var_os("LIA_BENCH_SERVER").map(std::path::PathBuf::from)
}

/// Builds the release server, unless `LIA_BENCH_SERVER` names one. `LIA_BENCH_ALLOCATOR=system`
/// builds it without mimalloc (on glibc's malloc), `LIA_BENCH_ALLOCATOR=jemalloc` on jemalloc,
/// so they can be compared on the same scenarios.
pub(crate) fn build_release() -> Result<()> {
    if let Some(path) = prebuilt() {
        println!("measuring the prebuilt server {}", path.display());
        return Ok(());
    }
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(["build", "--release", "-p", "lia-server"]);
    match allocator() {
        "system" => {
            command.arg("--no-default-features");
        }
        "jemalloc" => {
            command.args(["--no-default-features", "--features", "jemalloc"]);
        }
        _ => {}
    }
    let status = command.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p lia-server failed");
    }
    Ok(())
}

/// The allocator the benchmark server is built with: `mimalloc` (the default), `system` or
/// `jemalloc`.
pub(crate) fn allocator() -> &'static str {
    match std::env::var("LIA_BENCH_ALLOCATOR").as_deref() {
        Ok("system") => "system",
        Ok("jemalloc") => "jemalloc",
        _ => "mimalloc",
    }
}

/// The JWT secret the benchmark server runs with.
pub(crate) const JWT_SECRET: &str = "bench-secret-bench-secret-bench-secret";

/// Tokens for `users`, signed as the server would, so scenarios that do not measure login
/// need no Argon2 hashing (whose 64 MiB per hash would cloud the memory figures).
pub(crate) fn mint_tokens(users: &[lia_domain::UserId]) -> Result<Vec<String>> {
    let tokens = lia_auth::TokenService::new(
        &lia_domain::Secret::new(JWT_SECRET),
        lia_auth::JwtAlgorithm::HS256,
        7,
    )?;
    Ok(users.iter().map(|user| tokens.issue(*user).token).collect())
}

pub(crate) struct Server {
    child: Child,
    pub(crate) base_url: String,
    pub(crate) startup: Duration,
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Clock ticks per second of `/proc/PID/stat`'s CPU times (`getconf CLK_TCK`; 100 on Linux).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

impl Server {
    /// Starts the release server on `database`, with the OpenAI provider pointed at
    /// `upstream` and `extra` environment variables on top of the benchmark's own.
    pub(crate) async fn start(
        root: &Path,
        database: &Database,
        upstream: &str,
        extra: &[(&str, &str)],
    ) -> Result<Self> {
        let port = free_port()?;
        let binary = prebuilt().unwrap_or_else(|| root.join("target/release/lia-server"));
        let mut command = Command::new(binary);
        command
            .env("PORT", port.to_string())
            .env("JWT_SECRET", JWT_SECRET)
            .env("OPENAI_API_KEY", "bench")
            .env("OPENAI_BASE_URL", format!("{upstream}/v1"))
            .env("LIA__RATE_LIMITS__ENABLED", "false")
            .env("LIA__LLM__LOCAL__PACE_MS", "0")
            .env("LIA__LLM__RETRY__BASE_DELAY_MS", "20")
            .env("LIA__CHAT__MAX_ACTIVE_TURNS_PER_USER", "1000")
            .env("LIA__DATABASE__MAX_CONNECTIONS", "16")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        match &database.url {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env("LIA__DATABASE__SQLITE_PATH", &database.sqlite_path),
        };
        if let Ok(redis) = std::env::var("REDIS_URL") {
            command.env("REDIS_URL", redis);
        }
        for (name, value) in extra {
            command.env(name, value);
        }
        let started = Instant::now();
        let child = command.spawn().context("starting lia-server")?;
        let base_url = format!("http://127.0.0.1:{port}");
        let client = lia_llm::providers::http::client(Duration::from_secs(1))?;
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(response) = client.get(format!("{base_url}/health/live")).send().await
                && response.status().is_success()
            {
                return Ok(Self {
                    child,
                    base_url,
                    startup: started.elapsed(),
                });
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!("lia-server did not answer within 30 s")
    }

    fn status_field(&self, field: &str) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }

    /// Resident memory now, in MiB.
    pub(crate) fn rss_mib(&self) -> f64 {
        self.status_field("VmRSS:")
    }

    /// The highest resident memory so far, in MiB.
    pub(crate) fn peak_rss_mib(&self) -> f64 {
        self.status_field("VmHWM:")
    }

    /// User plus system CPU time the server has used so far, in seconds (all threads).
    pub(crate) fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&self.child.id().to_string())
    }
}

/// CPU seconds (user + system) of the process `pid` (a number, or `self`).
pub(crate) fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name (field 2) may contain spaces; count fields after its `)`.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After `)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
