//! [`RateLimiter`] in process memory: GCRA per key under one lock, so concurrent callers
//! are admitted exactly up to the limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lia_domain::ports::{RateLimitDecision, RateLimitError, RateLimitScope, RateLimiter};

use crate::config::RateLimitConfig;
use crate::gcra;

/// The in-process rate limiter.
#[derive(Debug)]
pub struct MemoryRateLimiter {
    config: RateLimitConfig,
    epoch: Instant,
    tats: Mutex<HashMap<(RateLimitScope, String), u64>>,
    max_keys: usize,
}

impl MemoryRateLimiter {
    /// A limiter with `config`'s limits, tracking at most `max_keys` keys (expired ones are
    /// dropped first when the table fills).
    #[must_use]
    pub fn new(config: RateLimitConfig, max_keys: usize) -> Self {
        Self {
            config,
            epoch: Instant::now(),
            tats: Mutex::new(HashMap::new()),
            max_keys: max_keys.max(1),
        }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(
        &self,
        scope: RateLimitScope,
        key: &str,
    ) -> Result<RateLimitDecision, RateLimitError> {
        let limit = self.config.limit(scope);
        if !self.config.enabled {
            return Ok(self.config.unlimited(scope));
        }
        let now = self.now_us();
        let mut tats = self
            .tats
            .lock()
            .map_err(|_| RateLimitError("rate limiter lock poisoned".into()))?;
        if tats.len() >= self.max_keys {
            // A TAT in the past has no effect on any decision: forget it.
            tats.retain(|_, tat| *tat > now);
        }
        let slot = (scope, key.to_owned());
        let window = Duration::from_secs(self.config.window_secs);
        let (next, decision) = gcra::decide(tats.get(&slot).copied(), now, limit, window);
        if let Some(next) = next {
            tats.insert(slot, next);
        }
        Ok(decision)
    }
}
