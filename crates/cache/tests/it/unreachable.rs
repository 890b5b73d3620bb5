//! With Redis unreachable, operations return within the command timeout and fail open (the
//! limiter reports an error, which the HTTP layer turns into fail-closed for auth).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lia_cache::{
    CacheConfig, CacheStats, RateLimitConfig, RedisCache, RedisConnection, RedisRateLimiter,
};
use lia_domain::ports::{Cached, DetailCache, HistoryCache, RateLimitScope, RateLimiter};
use lia_domain::{ConversationId, HistoryPage, MessageWindow, UserId};

#[tokio::test]
async fn a_closed_port_makes_every_operation_fail_open_within_the_timeout() {
    // Bind then drop a listener: nothing listens on that port now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = CacheConfig {
        command_timeout_ms: 150,
        ..CacheConfig::default()
    };
    let stats = Arc::new(CacheStats::default());
    let started = Instant::now();
    let redis = RedisConnection::connect(
        &format!("redis://127.0.0.1:{port}"),
        &config,
        Arc::clone(&stats),
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    let cache = RedisCache::new(redis.clone(), config.clone());
    let limiter = RedisRateLimiter::new(redis.clone(), RateLimitConfig::default());

    let started = Instant::now();
    assert_eq!(
        cache.history(UserId(1), HistoryPage::default()).await,
        Cached::Unavailable
    );
    assert_eq!(
        cache
            .detail(
                UserId(1),
                ConversationId::new_v7(),
                MessageWindow::default()
            )
            .await,
        Cached::Unavailable
    );
    cache.invalidate_history(UserId(1)).await;
    assert!(limiter.check(RateLimitScope::Auth, "ip").await.is_err());
    assert!(redis.ping().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(stats.faults() >= 3, "faults are counted");
}
