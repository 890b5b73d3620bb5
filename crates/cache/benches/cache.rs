//! Cache benchmarks: a turn's 20 events written to the stream buffer in one batch versus one
//! write each, a history page read, and a rate-limit check; in process always, on Redis when
//! `LIA_BENCH_REDIS_URL` (or `LIA_TEST_REDIS_URL`) is set.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use lia_cache::{
    CacheConfig, CacheStats, MemoryCache, MemoryRateLimiter, RateLimitConfig, RedisCache,
    RedisConnection, RedisRateLimiter, RedisStreamBuffer,
};
use lia_domain::ports::{
    BufferedEvent, Cached, ConversationCache, HistoryCache, HistoryRow, RateLimitScope,
    RateLimiter, StreamBuffer,
};
use lia_domain::{ConversationId, ConversationSummary, HistoryPage, UserId};

/// A turn's events: start, 18 chunks, done.
fn turn_events() -> Vec<BufferedEvent> {
    (1..=20)
        .map(|id| BufferedEvent {
            id,
            event: "chunk".into(),
            data: format!("{{\"content\":\"word{id} \"}}"),
        })
        .collect()
}

/// Appends `events` to a fresh stream, all in one batch or one write each.
async fn append_turn(buffer: &dyn StreamBuffer, events: &[BufferedEvent], batched: bool) {
    let stream_id = format!("1-{}", uuid::Uuid::new_v4().simple());
    if batched {
        buffer.append(&stream_id, events, true).await.unwrap();
    } else {
        for (index, event) in events.iter().enumerate() {
            let last = index + 1 == events.len();
            buffer
                .append(&stream_id, std::slice::from_ref(event), last)
                .await
                .unwrap();
        }
    }
}

async fn filled_history(cache: &dyn ConversationCache, user: UserId) {
    let Cached::Miss(token) = cache.history(user, HistoryPage::default()).await else {
        return;
    };
    let now = lia_domain::clock::now_utc();
    let rows: Vec<HistoryRow> = (0..100)
        .map(|i| ConversationSummary {
            id: ConversationId::new_v7(),
            title: Some(format!("c{i}")),
            created_at: now,
            updated_at: now - time::Duration::minutes(i),
            message_count: 4,
        })
        .map(HistoryRow::from)
        .collect();
    cache.fill_history(user, token, &rows, true).await;
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = CacheConfig {
        history_max_entries: 200,
        key_prefix: format!("lia:bench:{}:", uuid::Uuid::new_v4().simple()),
        ..CacheConfig::default()
    };
    let memory = MemoryCache::new(&config, Arc::new(CacheStats::default()));
    runtime.block_on(filled_history(&memory, UserId(1)));
    let limiter = MemoryRateLimiter::new(
        RateLimitConfig {
            general_per_window: u32::MAX,
            ..RateLimitConfig::default()
        },
        10_000,
    );
    c.bench_function("memory/history_page_20", |b| {
        b.to_async(&runtime)
            .iter(|| memory.history(UserId(1), HistoryPage::default()))
    });
    c.bench_function("memory/rate_limit_check", |b| {
        b.to_async(&runtime)
            .iter(|| limiter.check(RateLimitScope::General, "user-1"))
    });

    let url = std::env::var("LIA_BENCH_REDIS_URL")
        .or_else(|_| std::env::var("LIA_TEST_REDIS_URL"))
        .ok()
        .filter(|u| !u.is_empty());
    let Some(url) = url else { return };
    let redis = runtime
        .block_on(RedisConnection::connect(
            &url,
            &config,
            Arc::new(CacheStats::default()),
            Duration::from_secs(5),
        ))
        .unwrap();
    let cache = RedisCache::new(redis.clone(), config.clone());
    let limiter = RedisRateLimiter::new(
        redis,
        RateLimitConfig {
            general_per_window: 1_000_000_000,
            ..RateLimitConfig::default()
        },
    );
    runtime.block_on(filled_history(&cache, UserId(1)));
    let buffer = {
        let _runtime = runtime.enter();
        RedisStreamBuffer::new(redis_for_buffer(&runtime, &url, &config), 1_000, 60)
    };
    let events = turn_events();
    let mut group = c.benchmark_group("redis");
    group.bench_function("stream_20_events_one_batch", |b| {
        b.to_async(&runtime)
            .iter(|| append_turn(&buffer, &events, true))
    });
    group.bench_function("stream_20_events_one_write_each", |b| {
        b.to_async(&runtime)
            .iter(|| append_turn(&buffer, &events, false))
    });
    group.bench_function("history_page_20", |b| {
        b.to_async(&runtime)
            .iter(|| cache.history(UserId(1), HistoryPage::default()))
    });
    group.bench_function("rate_limit_check", |b| {
        b.to_async(&runtime)
            .iter(|| limiter.check(RateLimitScope::General, "user-1"))
    });
    group.finish();
}

fn redis_for_buffer(
    runtime: &tokio::runtime::Runtime,
    url: &str,
    config: &CacheConfig,
) -> RedisConnection {
    runtime
        .block_on(RedisConnection::connect(
            url,
            config,
            Arc::new(CacheStats::default()),
            Duration::from_secs(5),
        ))
        .unwrap()
}

criterion_group!(cache, benches);
criterion_main!(cache);
