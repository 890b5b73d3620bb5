//! Cache, rate-limit and stream-buffer settings.

use serde::{Deserialize, Serialize};

/// How many distinct pages (offset, limit) of one user's history are kept built, in process
/// or in Redis; a client paging through invented sizes rebuilds instead of growing the entry.
pub(crate) const BUILT_PAGES_MAX: usize = 8;

/// Where the cache lives and how long entries live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CacheConfig {
    /// `redis://`, `rediss://`, `redis-sentinel://` or `redis-cluster://`; unset means in-process.
    pub redis_url: Option<lia_domain::SecretUrl>,
    /// Refuse to start (exit status 5) when Redis does not answer at start-up, instead of
    /// starting degraded and reconnecting in the background. Always on for `rediss://`: a
    /// server asked to speak TLS refuses to start rather than run without it.
    pub redis_required: bool,
    /// A PEM file of the certificate authorities to trust for `rediss://` (a managed Redis
    /// with a private CA, or a self-signed certificate); unset: the system's roots.
    /// Certificates are always verified.
    pub redis_tls_ca_file: Option<String>,
    /// Redis connections in the pool.
    pub pool_size: usize,
    /// Upper bound of every Redis command; past it the operation fails open.
    pub command_timeout_ms: u64,
    /// Key prefix, versioned so deployments (and schema changes) can share one Redis. The
    /// server appends the database's identity to it, so keys never outlive their database.
    pub key_prefix: String,
    /// Lifetime of a cached history.
    pub history_ttl_secs: u64,
    /// Conversations cached per history (the newest ones).
    pub history_max_entries: u64,
    /// Lifetime of a cached first page of a conversation.
    pub detail_ttl_secs: u64,
    /// Entries an in-process cache holds at most (per kind).
    pub memory_max_entries: u64,
    /// Events kept per chat-turn stream in process; on Redis, stream entries (one per
    /// batch of events, so at least as many events are kept).
    pub stream_max_events: u64,
    /// How long a finished stream stays replayable (on Redis: after its last write).
    pub stream_ttl_secs: u64,
    /// Total size of the in-process stream buffer: past it the oldest finished streams are
    /// evicted first, open ones never. Redis is bounded by its own `maxmemory` instead.
    pub stream_max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_required: false,
            redis_tls_ca_file: None,
            pool_size: 4,
            command_timeout_ms: 500,
            key_prefix: "lia:v1:".into(),
            history_ttl_secs: 300,
            history_max_entries: 200,
            detail_ttl_secs: 600,
            memory_max_entries: 10_000,
            stream_max_events: 10_000,
            stream_ttl_secs: 600,
            stream_max_bytes: 32 * 1024 * 1024,
        }
    }
}

impl CacheConfig {
    /// The in-process stream buffer's limits.
    #[must_use]
    pub fn memory_stream_limits(&self) -> crate::memory::MemoryStreamLimits {
        crate::memory::MemoryStreamLimits {
            max_events_per_stream: usize::try_from(self.stream_max_events).unwrap_or(usize::MAX),
            ttl: std::time::Duration::from_secs(self.stream_ttl_secs),
            max_bytes: usize::try_from(self.stream_max_bytes).unwrap_or(usize::MAX),
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
