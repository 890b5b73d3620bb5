//! The read path at its ceiling: cached history and first-page detail reads with 32 and 256
//! keep-alive clients, driven from one thread so the server's cost reads apart from the
//! driver's. Reports requests/s, p50/p99, server CPU per request (from `/proc/PID/stat`) and
//! the driver's own CPU share of one core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::process::{self, Server};
use super::{idle_upstream, raw, seed};

/// Seconds per measured run (after one warm-up second).
const SECONDS: u64 = 5;
/// Client counts, each a run of its own.
const CLIENTS: [usize; 2] = [32, 256];

pub(crate) async fn run(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let upstream = idle_upstream().await;
    let server = Server::start(root, database, &upstream.base_url, &[]).await?;
    let tokens = process::mint_tokens(&database.user_ids)?;
    let deep = database.deep_conversation;
    let reads = [
        ("history", "/api/v1/chat/history".to_owned(), &tokens[..]),
        (
            "detail",
            format!("/api/v1/chat/conversation/{deep}?limit=50"),
            &tokens[..1],
        ),
    ];
    println!(
        "reads ({}{}): one driver thread, {SECONDS} s per run after 1 s of warm-up",
        database.kind,
        if std::env::var("REDIS_URL").is_ok() {
            " + redis"
        } else {
            ""
        }
    );
    let mut section = serde_json::Map::new();
    for (name, path, tokens) in reads {
        let requests = Arc::new(raw::Requests::get(&server.base_url, tokens, &path)?);
        for clients in CLIENTS {
            drive(&requests, clients, Duration::from_secs(1))?;
            let cpu_before = server.cpu_seconds();
            let driver_before = own_cpu_seconds();
            let wall = Instant::now();
            let outcome = drive(&requests, clients, Duration::from_secs(SECONDS))?;
            let wall = wall.elapsed().as_secs_f64();
            let server_cpu = server.cpu_seconds() - cpu_before;
            let driver_cpu = own_cpu_seconds() - driver_before;
            let served = outcome.requests.saturating_sub(outcome.errors).max(1) as f64;
            let server_us = server_cpu * 1e6 / served;
            let driver_share = driver_cpu / wall;
            println!(
                "  {name:<7} {clients:>3} clients: {:>6.0} req/s, p50 {:.2} ms, p99 {:.2} ms, server CPU {server_us:.1} µs/request, driver {:.0}% of a core, {} errors",
                outcome.per_second(),
                outcome.percentile(0.5),
                outcome.percentile(0.99),
                driver_share * 100.0,
                outcome.errors
            );
            section.insert(
                format!("{name}_{clients}"),
                json!({
                    "requests_per_second": outcome.per_second(), "p50_ms": outcome.percentile(0.5),
                    "p99_ms": outcome.percentile(0.99), "errors": outcome.errors,
                    "server_cpu_us_per_request": server_us, "driver_cpu_share": driver_share,
                }),
            );
        }
    }
    Ok(Value::Object(section))
}

/// Runs `clients` connections for `seconds` on a runtime of one thread of its own.
fn drive(
    requests: &Arc<raw::Requests>,
    clients: usize,
    deadline: Duration,
) -> Result<super::load::Outcome> {
    let requests = Arc::clone(requests);
    std::thread::spawn(move || -> Result<super::load::Outcome> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(runtime.block_on(raw::run(&requests, clients, usize::MAX, deadline)))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the driver thread panicked"))?
    .context("driving reads")
}

/// This process's CPU seconds (user + system).
fn own_cpu_seconds() -> f64 {
    process::cpu_seconds_of("self")
}
