//! The turn-speed scenarios: the same load run back to back on one server (so decay with
//! uptime shows), memory per open stream, and memory after a long series of turns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use serde_json::{Value, json};

use super::load::Scenario;
use super::process::Server;
use super::raw::{self, Requests};

/// Figures of one run of the sustained scenario.
pub(crate) struct RunFigures {
    pub(crate) turns: usize,
    pub(crate) errors: usize,
    pub(crate) per_second: f64,
    pub(crate) cpu_ms_per_turn: f64,
    pub(crate) first_chunk_ms: [f64; 3],
    pub(crate) rss_mib: f64,
}

impl RunFigures {
    pub(crate) fn summary(&self) -> Value {
        json!({
            "turns": self.turns, "errors": self.errors, "turns_per_second": self.per_second,
            "server_cpu_ms_per_turn": self.cpu_ms_per_turn,
            "first_chunk_p50_ms": self.first_chunk_ms[0], "first_chunk_p95_ms": self.first_chunk_ms[1],
            "first_chunk_p99_ms": self.first_chunk_ms[2], "rss_mib": self.rss_mib,
        })
    }
}

/// The chat turn the turn-speed scenarios send: the offline provider, `nlp_api` sentiment.
fn offline_body() -> Value {
    json!({"message": "I am so happy about my new garden!", "provider": "local", "model": "lia-local", "sentiment_method": "nlp_api"})
}

/// [`offline_body`] for the reqwest-based helpers.
pub(crate) fn offline_turn(base: &str, tokens: &[String]) -> Scenario {
    Scenario::chat_with(base, "local", "lia-local", "nlp_api").with_tokens(tokens)
}

/// [`offline_body`] as raw requests, one per token.
pub(crate) fn offline_requests(server: &Server, tokens: &[String]) -> Result<Arc<Requests>> {
    Ok(Arc::new(Requests::new(
        &server.base_url,
        tokens,
        &offline_body(),
    )?))
}

/// `runs` back-to-back runs of `seconds` each with `concurrency` turns in flight.
pub(crate) async fn sustained(
    server: &Server,
    tokens: &[String],
    runs: usize,
    seconds: u64,
    concurrency: usize,
) -> Result<Vec<RunFigures>> {
    let requests = offline_requests(server, tokens)?;
    let mut figures = Vec::with_capacity(runs);
    for index in 0..runs {
        let cpu_before = server.cpu_seconds();
        let outcome = raw::run(
            &requests,
            concurrency,
            usize::MAX,
            Duration::from_secs(seconds),
        )
        .await;
        let cpu = server.cpu_seconds() - cpu_before;
        let percentile = |q| outcome.first_chunk_percentile(q).unwrap_or(0.0);
        let run = RunFigures {
            turns: outcome.requests,
            errors: outcome.errors,
            per_second: outcome.per_second(),
            cpu_ms_per_turn: cpu * 1e3 / outcome.requests.max(1) as f64,
            first_chunk_ms: [percentile(0.50), percentile(0.95), percentile(0.99)],
            rss_mib: server.rss_mib(),
        };
        println!(
            "  run {}: {} turns, {:.0} turns/s, {:.3} ms CPU/turn, first chunk p50/p95/p99 {:.1}/{:.1}/{:.1} ms, RSS {:.1} MiB, {} errors",
            index + 1,
            run.turns,
            run.per_second,
            run.cpu_ms_per_turn,
            run.first_chunk_ms[0],
            run.first_chunk_ms[1],
            run.first_chunk_ms[2],
            run.rss_mib,
            run.errors
        );
        figures.push(run);
    }
    Ok(figures)
}

/// Opens `n` turns whose provider stays silent after its first word and holds them open;
/// returns the RSS before, the RSS with all of them open, and the difference per stream.
pub(crate) async fn open_streams(
    server: &Server,
    tokens: &[String],
    n: usize,
) -> Result<(f64, f64, f64)> {
    // One connection per stream, as browsers do.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()?;
    let scenario = offline_turn(&server.base_url, tokens);
    // Warm up allocator pools and caches with a few streams first, so the figure is the
    // steady cost of a stream, not the first-use cost of the process.
    let mut warm = Vec::new();
    for i in 0..16 {
        warm.push(scenario.open_until_first_chunk(&client, i).await?);
    }
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_mib();
    let opened = futures::stream::iter(0..n)
        .map(|i| scenario.open_until_first_chunk(&client, i))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let held: Vec<_> = opened.into_iter().collect::<Result<_>>()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = server.rss_mib();
    drop(held);
    Ok((before, during, (during - before) * 1024.0 / n as f64))
}

/// Runs `total` turns, returning the RSS after the first 1,000 and after all of them.
pub(crate) async fn long_run(
    server: &Server,
    tokens: &[String],
    total: usize,
    concurrency: usize,
) -> Result<(f64, f64, usize, Duration)> {
    let requests = offline_requests(server, tokens)?;
    let started = Instant::now();
    let first = raw::run(&requests, concurrency, 1_000, Duration::from_secs(600)).await;
    let after_first = server.rss_mib();
    let rest = raw::run(
        &requests,
        concurrency,
        total.saturating_sub(1_000),
        Duration::from_secs(1_800),
    )
    .await;
    Ok((
        after_first,
        server.rss_mib(),
        first.errors + rest.errors,
        started.elapsed(),
    ))
}
