//! Two servers sharing one PostgreSQL: throughput, CPU and the server connections they hold,
//! directly or through a transaction-mode pooler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use super::process::{self, Server};
use super::{TURN_CONCURRENCY, idle_upstream, raw, seed, sustained};

/// Length of the measured run.
const SECONDS: u64 = 10;

pub(crate) async fn run(root: &std::path::Path, database: &seed::Database) -> Result<Value> {
    let direct = database
        .direct_url
        .clone()
        .context("the pair benchmark needs DATABASE_URL (PostgreSQL)")?;
    let pooler = std::env::var("LIA__DATABASE__POOLER").unwrap_or_else(|_| "none".into());
    let upstream = idle_upstream().await;
    let servers = [
        Server::start(root, database, &upstream.base_url, &[]).await?,
        Server::start(root, database, &upstream.base_url, &[]).await?,
    ];
    let tokens = process::mint_tokens(&database.user_ids)?;
    println!(
        "pair: 2 servers, {TURN_CONCURRENCY} concurrent offline turns split between them, {SECONDS} s (pooler: {pooler})"
    );
    // Warm both (pools filled, caches primed), as a deployment in service is.
    run_on(&servers, &tokens, 2).await?;

    let counting = lia_store::connect(&lia_store::StoreConfig {
        database_url: Some(direct.into()),
        max_connections: 1,
        ..lia_store::StoreConfig::default()
    })
    .await?;
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        let counting = counting.clone();
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !done.load(Ordering::SeqCst) {
                if let Ok(count) = server_connections(&counting).await {
                    samples.push(count);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            samples
        })
    };
    let cpu_before: f64 = servers.iter().map(Server::cpu_seconds).sum();
    let (turns, errors, per_second) = run_on(&servers, &tokens, SECONDS).await?;
    let cpu = servers.iter().map(Server::cpu_seconds).sum::<f64>() - cpu_before;
    done.store(true, Ordering::SeqCst);
    let samples = sampler.await?;
    let _ = counting.close().await;
    let peak = samples.iter().copied().max().unwrap_or(0);
    let mean = samples.iter().sum::<i64>() as f64 / samples.len().max(1) as f64;
    let cpu_ms_per_turn = cpu * 1e3 / turns.max(1) as f64;
    println!(
        "  {turns} turns, {per_second:.0} turns/s, {cpu_ms_per_turn:.3} ms server CPU/turn (both), {errors} errors; PostgreSQL server connections: peak {peak}, mean {mean:.1} ({} samples)",
        samples.len()
    );
    Ok(json!({
        "pooler": pooler, "turns": turns, "errors": errors, "turns_per_second": per_second,
        "server_cpu_ms_per_turn": cpu_ms_per_turn,
        "postgres_connections_peak": peak, "postgres_connections_mean": mean,
    }))
}

/// Half the turns on each server at once; the summed turns, errors and turns/s.
async fn run_on(
    servers: &[Server; 2],
    tokens: &[String],
    seconds: u64,
) -> Result<(usize, usize, f64)> {
    let half = TURN_CONCURRENCY / 2;
    let deadline = Duration::from_secs(seconds);
    let first = sustained::offline_requests(&servers[0], tokens)?;
    let second = sustained::offline_requests(&servers[1], tokens)?;
    let (a, b) = tokio::join!(
        raw::run(&first, half, usize::MAX, deadline),
        raw::run(&second, half, usize::MAX, deadline)
    );
    Ok((
        a.requests + b.requests,
        a.errors + b.errors,
        a.per_second() + b.per_second(),
    ))
}

/// Server processes connected to this database, other than the one counting.
async fn server_connections(connection: &lia_store::DatabaseConnection) -> Result<i64> {
    let row = connection
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await?
        .context("no row")?;
    Ok(row.try_get::<i64>("", "n")?)
}
