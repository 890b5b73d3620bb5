//! Cache, rate-limit and stream-buffer settings.

use serde::{Deserialize, Serialize};

/// Where the cache lives and how long entries live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// `redis://`, `rediss://`, `redis-sentinel://` or `redis-cluster://`; unset means in-process.
    pub redis_url: Option<String>,
    /// Redis connections in the pool.
    pub pool_size: usize,
    /// Upper bound of every Redis command; past it the operation fails open.
    pub command_timeout_ms: u64,
    /// Key prefix, versioned so deployments (and schema changes) can share one Redis.
    pub key_prefix: String,
    /// Lifetime of a conversation's context list, refreshed on every append.
    pub context_ttl_secs: u64,
    /// Messages kept in a context list.
    pub context_max_messages: u64,
    /// Lifetime of a cached history.
    pub history_ttl_secs: u64,
    /// Conversations cached per history (the newest ones).
    pub history_max_entries: u64,
    /// Lifetime of a cached first page of a conversation.
    pub detail_ttl_secs: u64,
    /// Lifetime of a cached user profile.
    pub user_ttl_secs: u64,
    /// Entries an in-process cache holds at most (per kind).
    pub memory_max_entries: u64,
    /// Events kept per chat-turn stream.
    pub stream_max_events: u64,
    /// How long a finished stream stays replayable.
    pub stream_ttl_secs: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            pool_size: 4,
            command_timeout_ms: 500,
            key_prefix: "lia:v1:".into(),
            context_ttl_secs: 3_600,
            context_max_messages: 20,
            history_ttl_secs: 300,
            history_max_entries: 200,
            detail_ttl_secs: 600,
            user_ttl_secs: 900,
            memory_max_entries: 10_000,
            stream_max_events: 10_000,
            stream_ttl_secs: 600,
        }
    }
}

/// Requests admitted per key and window, for each scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimitConfig {
    /// Turn every limit off (load tests only).
    pub enabled: bool,
    /// The window, in seconds.
    pub window_secs: u64,
    /// Register and login, per client IP.
    pub auth_per_window: u32,
    /// Chat streams, per user.
    pub chat_per_window: u32,
    /// Every other authenticated route, per user.
    pub general_per_window: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_secs: 60,
            auth_per_window: 10,
            chat_per_window: 20,
            general_per_window: 120,
        }
    }
}

impl RateLimitConfig {
    /// The decision when limits are disabled: always admitted.
    #[must_use]
    pub fn unlimited(
        &self,
        scope: lia_domain::ports::RateLimitScope,
    ) -> lia_domain::ports::RateLimitDecision {
        let limit = self.limit(scope);
        lia_domain::ports::RateLimitDecision {
            allowed: true,
            limit,
            remaining: limit,
            retry_after: std::time::Duration::ZERO,
        }
    }

    /// The limit of `scope`.
    #[must_use]
    pub fn limit(&self, scope: lia_domain::ports::RateLimitScope) -> u32 {
        use lia_domain::ports::RateLimitScope;
        match scope {
            RateLimitScope::Auth => self.auth_per_window,
            RateLimitScope::Chat => self.chat_per_window,
            RateLimitScope::General => self.general_per_window,
        }
    }
}
