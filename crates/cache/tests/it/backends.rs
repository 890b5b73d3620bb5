//! The backends under test.

use std::sync::Arc;
use std::time::Duration;

use lia_cache::{
    CacheConfig, CacheStats, MemoryCache, MemoryRateLimiter, MemoryStreamBuffer,
    MemoryStreamLimits, RateLimitConfig, RedisCache, RedisConnection, RedisRateLimiter,
    RedisStreamBuffer,
};
use lia_domain::ports::{ConversationCache, RateLimiter, StreamBuffer};

/// A work counter of a stream buffer: entries visited in process, round trips on Redis.
pub(crate) type WorkCounter = Arc<dyn Fn() -> u64 + Send + Sync>;

pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) cache: Arc<dyn ConversationCache>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) buffer: Arc<dyn StreamBuffer>,
    pub(crate) buffer_work: WorkCounter,
    /// Another instance's view of the same stream buffer (in process: the same buffer; on
    /// Redis: a second connection with its own subscriber).
    pub(crate) other_instance: Arc<dyn StreamBuffer>,
    pub(crate) stats: Arc<CacheStats>,
}

pub(crate) fn config() -> CacheConfig {
    CacheConfig {
        key_prefix: format!("lia:test:{}:", uuid::Uuid::new_v4().simple()),
        history_max_entries: 4,
        ..CacheConfig::default()
    }
}

/// The test Redis, or `None` (saying so) when `LIA_TEST_REDIS_URL` is not set.
pub(crate) fn redis_url() -> Option<String> {
    url_from("LIA_TEST_REDIS_URL", "the Redis backend")
}

/// The test Redis Cluster, or `None` (saying so) when `LIA_TEST_REDIS_CLUSTER_URL` is not
/// set. Redis Cluster refuses a script or transaction over keys of several slots, so every
/// test on it checks the key schema's hash tags too.
pub(crate) fn redis_cluster_url() -> Option<String> {
    url_from("LIA_TEST_REDIS_CLUSTER_URL", "the Redis Cluster backend")
}

fn url_from(variable: &str, what: &str) -> Option<String> {
    let url = std::env::var(variable)
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        println!("{variable} is not set: skipping {what}");
    }
    url
}

pub(crate) async fn redis_connection(url: &str, config: &CacheConfig) -> RedisConnection {
    let redis = RedisConnection::connect(
        url,
        config,
        Arc::new(CacheStats::default()),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    redis.ping().await.expect("LIA_TEST_REDIS_URL must answer");
    redis
}

/// In-process, plus Redis when `LIA_TEST_REDIS_URL` is set, plus Redis Cluster when
/// `LIA_TEST_REDIS_CLUSTER_URL` is set.
pub(crate) async fn backends(limits: RateLimitConfig) -> Vec<Backend> {
    let config = config();
    let stats = Arc::new(CacheStats::default());
    let memory_buffer = Arc::new(MemoryStreamBuffer::new(MemoryStreamLimits {
        max_events_per_stream: 100,
        ..MemoryStreamLimits::default()
    }));
    let counted = Arc::clone(&memory_buffer);
    let mut backends = vec![Backend {
        name: "memory",
        cache: Arc::new(MemoryCache::new(&config, Arc::clone(&stats))),
        limiter: Arc::new(MemoryRateLimiter::new(limits.clone(), 10_000)),
        buffer: memory_buffer.clone(),
        buffer_work: Arc::new(move || counted.entries_visited()),
        other_instance: memory_buffer,
        stats,
    }];
    let redis = [
        ("redis", redis_url()),
        ("redis-cluster", redis_cluster_url()),
    ];
    for (name, url) in redis {
        let Some(url) = url else { continue };
        let stats = Arc::new(CacheStats::default());
        let redis =
            RedisConnection::connect(&url, &config, Arc::clone(&stats), Duration::from_secs(5))
                .await
                .unwrap();
        redis.ping().await.expect("LIA_TEST_REDIS_URL must answer");
        let buffer = Arc::new(RedisStreamBuffer::new(redis.clone(), 100, 60));
        let counted = Arc::clone(&buffer);
        let other = RedisStreamBuffer::new(redis_connection(&url, &config).await, 100, 60);
        backends.push(Backend {
            name,
            cache: Arc::new(RedisCache::new(redis.clone(), config.clone())),
            limiter: Arc::new(RedisRateLimiter::new(redis, limits.clone())),
            buffer,
            buffer_work: Arc::new(move || counted.round_trips()),
            other_instance: Arc::new(other),
            stats,
        });
    }
    backends
}
