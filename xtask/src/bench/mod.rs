//! `cargo xtask bench [http|sustained|memory]`: builds the release server, seeds a
//! database, starts the server with embedded defaults (or `DATABASE_URL`/`REDIS_URL` when
//! given) and a fake OpenAI upstream that fails every third request, then drives scenarios
//! from this process over loopback. Prints tables and writes the same as JSON to
//! `target/bench/latest.json`. Every scenario is bounded in requests and time.
//!
//! - `http`: login, history, detail, chat turns, upstream failures, 1,000 concurrent turns.
//! - `sustained`: five back-to-back 10 s runs of 64 concurrent offline turns on one server,
//!   so a cost that grows with uptime shows as decay from the first run to the last.
//! - `memory`: RSS per open idle stream (1,000 held open), and RSS after 100,000 turns.
//! - `startup`: exec to the first answered request, ten starts on an already migrated
//!   database.
//! - `reads`: cached history and first-page detail with 32 and 256 keep-alive clients from
//!   one driver thread: requests/s, p50/p99, server CPU per request, the driver's CPU share.
//! - `pair`: two servers on one PostgreSQL (and Redis), 64 concurrent offline turns split
//!   between them for 10 s: turns/s, server CPU per turn, and the PostgreSQL server
//!   connections open to the database (sampled), to compare a direct connection with a
//!   transaction-mode pooler (`DATABASE_URL` through it, `DATABASE_MIGRATION_URL` direct,
//!   `LIA__DATABASE__POOLER=transaction`). Not in the default set: it needs PostgreSQL.
//! - `login`: failed-login time for an unknown email, an Argon2 account and a legacy bcrypt
//!   account (not in the default set: it runs the production hashing cost).
//!
//! Without an argument, all but `login` and `pair`. `LIA_BENCH_ALLOCATOR=system` builds the
//! server on glibc's malloc instead of mimalloc, `LIA_BENCH_ALLOCATOR=jemalloc` on jemalloc,
//! to compare them. `LIA_BENCH_SERVER=path`
//! measures a prebuilt server binary instead of building this checkout, to alternate two
//! builds run for run.

mod load;
mod login;
mod pair;
mod process;
mod raw;
mod reads;
mod seed;
mod sustained;

use std::time::Duration;

use anyhow::{Context, Result};
use lia_llm::testing::{Reply, Upstream, openai_stream};
use serde_json::{Value, json};

use load::Scenario;

/// Clients in the HTTP scenarios.
const CONCURRENCY: usize = 32;
/// Time bound of a read scenario.
const READ_SECONDS: u64 = 5;

/// Concurrent turns in the turn-speed scenarios.
const TURN_CONCURRENCY: usize = 64;

pub(crate) async fn run(args: &[String]) -> Result<()> {
    let selected: Vec<&str> = if args.is_empty() {
        vec!["http", "reads", "sustained", "memory", "startup"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = selected.iter().find(|s| {
        ![
            "http",
            "sustained",
            "memory",
            "startup",
            "login",
            "pair",
            "reads",
        ]
        .contains(s)
    }) {
        anyhow::bail!(
            "unknown benchmark {unknown:?}: expected http, sustained, memory, startup, login, pair or reads"
        );
    }
    let root = std::env::current_dir()?;
    process::build_release()?;
    let bench_dir = root.join("target").join("bench");
    std::fs::create_dir_all(&bench_dir)?;
    let mut report = serde_json::Map::new();
    report.insert("machine".into(), json!(machine()));
    report.insert("allocator".into(), json!(process::allocator()));
    for name in selected {
        let database = seed::prepare(&bench_dir).await?;
        report.insert("database".into(), json!(database.kind));
        report.insert("redis".into(), json!(std::env::var("REDIS_URL").is_ok()));
        let section = match name {
            "http" => run_http(&root, &database).await?,
            "sustained" => run_sustained(&root, &database).await?,
            "startup" => run_startup(&root, &database).await?,
            "login" => login::run(&root, &database).await?,
            "pair" => pair::run(&root, &database).await?,
            "reads" => reads::run(&root, &database).await?,
            _ => run_memory(&root, &database).await?,
        };
        report.insert(name.to_owned(), section);
    }
    let path = bench_dir.join("latest.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    println!("written to {}", path.display());
    Ok(())
}

/// An upstream that never answers: the turn-speed scenarios use the offline provider.
async fn idle_upstream() -> Upstream {
    Upstream::start_cycling(vec![openai_stream(&["unused"])]).await
}

async fn run_sustained(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let upstream = idle_upstream().await;
    let server = process::Server::start(root, database, &upstream.base_url, &[]).await?;
    let tokens = process::mint_tokens(&database.user_ids)?;
    println!(
        "sustained: 5 x 10 s, {TURN_CONCURRENCY} concurrent offline turns ({})",
        database.kind
    );
    let runs = sustained::sustained(&server, &tokens, 5, 10, TURN_CONCURRENCY).await?;
    let first = runs.first().map_or(0.0, |r| r.per_second);
    let last = runs.last().map_or(0.0, |r| r.per_second);
    println!(
        "  last run / first run: {:.1}%",
        100.0 * last / first.max(1e-9)
    );
    Ok(json!({
        "runs": runs.iter().map(sustained::RunFigures::summary).collect::<Vec<_>>(),
        "last_over_first": last / first.max(1e-9),
    }))
}

async fn run_startup(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let upstream = idle_upstream().await;
    let mut samples = Vec::new();
    for _ in 0..10 {
        let server = process::Server::start(root, database, &upstream.base_url, &[]).await?;
        samples.push(server.startup.as_secs_f64() * 1e3);
    }
    samples.sort_by(f64::total_cmp);
    let median = samples[samples.len() / 2];
    let max = samples.last().copied().unwrap_or_default();
    println!(
        "startup ({}, migrated): exec to the first answered request, median {median:.1} ms, max {max:.1} ms over {} starts",
        database.kind,
        samples.len()
    );
    Ok(json!({"median_ms": median, "max_ms": max, "samples_ms": samples}))
}

async fn run_memory(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let upstream = idle_upstream().await;
    // The offline provider sends its first word at once, then waits ten minutes per word:
    // every stream stays open and idle.
    let silent = process::Server::start(
        root,
        database,
        &upstream.base_url,
        &[("LIA__LLM__LOCAL__PACE_MS", "600000")],
    )
    .await?;
    let tokens = process::mint_tokens(&database.user_ids)?;
    let (before, during, per_stream) = sustained::open_streams(&silent, &tokens, 1_000).await?;
    println!(
        "memory: 1,000 open idle streams: RSS {before:.1} -> {during:.1} MiB, {per_stream:.1} KiB per stream"
    );
    drop(silent);

    let server = process::Server::start(root, database, &upstream.base_url, &[]).await?;
    let total = 100_000;
    let (after_first, after_all, errors, elapsed) =
        sustained::long_run(&server, &tokens, total, TURN_CONCURRENCY).await?;
    println!(
        "memory: RSS after 1,000 turns {after_first:.1} MiB, after {total} turns {after_all:.1} MiB (+{:.1} MiB), {errors} errors, {:.0} s",
        after_all - after_first,
        elapsed.as_secs_f64()
    );
    Ok(json!({
        "open_streams": 1_000, "rss_before_open_mib": before, "rss_open_mib": during,
        "rss_per_open_stream_kib": per_stream,
        "turns": total, "rss_after_1000_turns_mib": after_first, "rss_after_all_turns_mib": after_all,
        "long_run_errors": errors, "long_run_seconds": elapsed.as_secs_f64(),
    }))
}

async fn run_http(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let database = database.clone();

    let unavailable = Reply::status(
        503,
        r#"{"error":{"message":"overloaded","type":"server_error","code":null}}"#,
    );
    let upstream = Upstream::start_cycling(vec![
        openai_stream(&["Hello ", "from ", "upstream"]),
        openai_stream(&["Again"]),
        unavailable,
    ])
    .await;
    let server = process::Server::start(root, &database, &upstream.base_url, &[]).await?;
    println!(
        "server up in {:.0} ms, idle RSS {:.1} MiB",
        server.startup.as_secs_f64() * 1e3,
        server.rss_mib()
    );
    let idle_rss = server.rss_mib();

    let client = lia_llm::providers::http::client(Duration::from_secs(5))?;
    let base = server.base_url.clone();
    let tokens = load::login_all(&client, &base, seed::USERS).await?;
    let deep = database.deep_conversation;

    let login = load::run(
        &client,
        Scenario::login(&base),
        8,
        200,
        Duration::from_secs(30),
    )
    .await;
    let read = |path: String| Scenario::get(&base, path);
    let history = load::run(
        &client,
        read("/api/v1/chat/history".into()).with_tokens(&tokens),
        CONCURRENCY,
        usize::MAX,
        Duration::from_secs(READ_SECONDS),
    )
    .await;
    let detail = load::run(
        &client,
        read(format!("/api/v1/chat/conversation/{deep}?limit=50")).with_tokens(&tokens[..1]),
        CONCURRENCY,
        usize::MAX,
        Duration::from_secs(READ_SECONDS),
    )
    .await;
    let deep_page = load::run(
        &client,
        read(format!(
            "/api/v1/chat/conversation/{deep}?limit=50&offset=9000"
        ))
        .with_tokens(&tokens[..1]),
        CONCURRENCY,
        usize::MAX,
        Duration::from_secs(READ_SECONDS),
    )
    .await;
    let chat_offline = load::run(
        &client,
        Scenario::chat(&base, "gemini").with_tokens(&tokens),
        CONCURRENCY,
        1_000,
        Duration::from_secs(60),
    )
    .await;
    let chat_upstream = load::run(
        &client,
        Scenario::chat(&base, "openai").with_tokens(&tokens),
        16,
        300,
        Duration::from_secs(60),
    )
    .await;
    let before_burst = server.rss_mib();
    let burst = load::run(
        &client,
        Scenario::chat(&base, "gemini").with_tokens(&tokens),
        1_000,
        1_000,
        Duration::from_secs(120),
    )
    .await;
    let peak_rss = server.peak_rss_mib();

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let cache_hit_rate = ratio(
        sum(&metrics, "lia_cache_hits_total"),
        sum(&metrics, "lia_cache_hits_total") + sum(&metrics, "lia_cache_misses_total"),
    );
    let llm_ok = sum_where(&metrics, "lia_llm_attempts_total", "outcome=\"ok\"");
    let llm_attempts = sum(&metrics, "lia_llm_attempts_total");
    let turns = sum(&metrics, "lia_chat_turns_total");
    let turn_failures = sum(&metrics, "lia_chat_turn_failures_total");
    let llm_success = ratio(turns - turn_failures, turns);
    let retries = sum(&metrics, "lia_llm_retries_total");
    drop(server);

    let scenarios = [
        ("login", &login),
        ("history", &history),
        ("detail first page (10k msgs)", &detail),
        ("detail offset 9000 (10k msgs)", &deep_page),
        ("chat, offline provider", &chat_offline),
        ("chat, upstream 1/3 failing", &chat_upstream),
        ("chat, 1000 concurrent", &burst),
    ];
    println!(
        "\n{:<32} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10}",
        "scenario", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "TTFC p95"
    );
    for (name, outcome) in &scenarios {
        println!(
            "{name:<32} {:>9} {:>8.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}% {:>10}",
            outcome.requests,
            outcome.per_second(),
            outcome.percentile(0.50),
            outcome.percentile(0.95),
            outcome.percentile(0.99),
            outcome.error_rate() * 100.0,
            outcome
                .first_chunk_percentile(0.95)
                .map_or("-".to_owned(), |ms| format!("{ms:.2}")),
        );
    }
    let memory_per_turn_kib = (peak_rss - before_burst).max(0.0) * 1024.0 / 1000.0;
    let errors: f64 = scenarios.iter().map(|(_, o)| o.errors as f64).sum::<f64>()
        / scenarios
            .iter()
            .map(|(_, o)| o.requests as f64)
            .sum::<f64>()
            .max(1.0);
    println!(
        "\nerror rate {:.3}%, cache hit rate {:.1}%, LLM success rate {:.2}% ({retries} retries, {llm_ok}/{llm_attempts} attempts ok), idle RSS {idle_rss:.1} MiB, peak RSS {peak_rss:.1} MiB, ~{memory_per_turn_kib:.1} KiB per concurrent turn",
        errors * 100.0,
        cache_hit_rate * 100.0,
        llm_success * 100.0
    );

    Ok(json!({
        "scenarios": scenarios.iter().map(|(name, o)| (name.to_string(), o.summary())).collect::<serde_json::Map<String, Value>>(),
        "error_rate": errors,
        "cache_hit_rate": cache_hit_rate,
        "llm_success_rate": llm_success,
        "llm_retries": retries,
        "idle_rss_mib": idle_rss,
        "peak_rss_mib": peak_rss,
        "memory_per_concurrent_turn_kib": memory_per_turn_kib,
    }))
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

fn sum(metrics: &str, name: &str) -> f64 {
    sum_where(metrics, name, "")
}

fn sum_where(metrics: &str, name: &str, label: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| line.starts_with(name) && !line.starts_with('#') && line.contains(label))
        .filter(|line| line[name.len()..].starts_with(['{', ' ']))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    format!(
        "{} cores, {cpu}",
        std::thread::available_parallelism().map_or(0, usize::from)
    )
}
