//! The backends under test.

use std::sync::Arc;
use std::time::Duration;

use lia_cache::{
    CacheConfig, CacheStats, MemoryCache, MemoryRateLimiter, MemoryStreamBuffer, RateLimitConfig,
    RedisCache, RedisConnection, RedisRateLimiter, RedisStreamBuffer,
};
use lia_domain::ports::{ConversationCache, RateLimiter, StreamBuffer};

pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) cache: Arc<dyn ConversationCache>,
    pub(crate) limiter: Arc<dyn RateLimiter>,
    pub(crate) buffer: Arc<dyn StreamBuffer>,
    pub(crate) stats: Arc<CacheStats>,
}

pub(crate) fn config() -> CacheConfig {
    CacheConfig {
        key_prefix: format!("lia:test:{}:", uuid::Uuid::new_v4().simple()),
        context_ttl_secs: 1,
        context_max_messages: 6,
        history_max_entries: 4,
        ..CacheConfig::default()
    }
}

/// In-process, plus Redis when `LIA_TEST_REDIS_URL` is set.
pub(crate) async fn backends(limits: RateLimitConfig) -> Vec<Backend> {
    let config = config();
    let stats = Arc::new(CacheStats::default());
    let mut backends = vec![Backend {
        name: "memory",
        cache: Arc::new(MemoryCache::new(&config, Arc::clone(&stats))),
        limiter: Arc::new(MemoryRateLimiter::new(limits.clone(), 10_000)),
        buffer: Arc::new(MemoryStreamBuffer::new(100, Duration::from_secs(60))),
        stats,
    }];
    if let Some(url) = std::env::var("LIA_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let stats = Arc::new(CacheStats::default());
        let redis =
            RedisConnection::connect(&url, &config, Arc::clone(&stats), Duration::from_secs(5))
                .await
                .unwrap();
        redis.ping().await.expect("LIA_TEST_REDIS_URL must answer");
        backends.push(Backend {
            name: "redis",
            cache: Arc::new(RedisCache::new(redis.clone(), config.clone())),
            limiter: Arc::new(RedisRateLimiter::new(redis.clone(), limits)),
            buffer: Arc::new(RedisStreamBuffer::new(redis, 100, 60)),
            stats,
        });
    }
    backends
}
