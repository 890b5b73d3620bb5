//! [`RateLimiter`] over Redis: GCRA in one Lua script on the server's clock, so every server
//! instance shares the count and concurrent callers are admitted exactly up to the limit.

use std::time::Duration;

use async_trait::async_trait;
use lia_domain::ports::{RateLimitDecision, RateLimitError, RateLimitScope, RateLimiter};

use super::RedisConnection;
use super::scripts::GCRA_SCRIPT;
use crate::config::RateLimitConfig;

/// The Redis rate limiter.
#[derive(Debug, Clone)]
pub struct RedisRateLimiter {
    redis: RedisConnection,
    config: RateLimitConfig,
}

impl RedisRateLimiter {
    /// A limiter over `redis` with `config`'s limits.
    #[must_use]
    pub fn new(redis: RedisConnection, config: RateLimitConfig) -> Self {
        Self { redis, config }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn check(
        &self,
        scope: RateLimitScope,
        key: &str,
    ) -> Result<RateLimitDecision, RateLimitError> {
        let limit = self.config.limit(scope).max(1);
        if !self.config.enabled {
            return Ok(self.config.unlimited(scope));
        }
        let window_us = self.config.window_secs.saturating_mul(1_000_000).max(1);
        let call = GCRA_SCRIPT.evalsha_with_reload::<(i64, i64, String), _, _>(
            self.redis.pool.next(),
            vec![self.redis.keys.rate_limit(scope, key)],
            vec![limit.to_string(), window_us.to_string()],
        );
        let (allowed, remaining, retry_us) =
            match tokio::time::timeout(self.redis.timeout, call).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(error)) => return Err(RateLimitError(Box::new(error))),
                Err(_) => return Err(RateLimitError("rate limiter timed out".into())),
            };
        Ok(RateLimitDecision {
            allowed: allowed == 1,
            limit,
            remaining: u32::try_from(remaining).unwrap_or(0),
            retry_after: Duration::from_micros(retry_us.parse::<u64>().unwrap_or(0)),
        })
    }
}
