//! The rate-limiter port.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::BoxError;

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitScope {
    /// Register and login, keyed by client IP. Fails closed.
    Auth,
    /// Chat streams, keyed by user. Fails open.
    Chat,
    /// Every other authenticated route, keyed by user. Fails open.
    General,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitDecision {
    /// Whether this request is admitted.
    pub allowed: bool,
    /// The configured limit per window.
    pub limit: u32,
    /// Requests left in the current window after this one.
    pub remaining: u32,
    /// When a rejected caller may try again (zero when allowed).
    pub retry_after: Duration,
}

/// The limiter could not decide (backend unreachable or timed out).
#[derive(Debug, thiserror::Error)]
#[error("rate limiter unavailable")]
pub struct RateLimitError(#[source] pub BoxError);

/// Counts requests per scope and key, atomically across server instances.
#[async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Counts one request for `key` in `scope` and says whether it is admitted.
    /// Rejected requests do not use up the window.
    ///
    /// # Errors
    /// [`RateLimitError`] when no decision could be made; the caller applies the scope's
    /// fail-open or fail-closed rule.
    async fn check(
        &self,
        scope: RateLimitScope,
        key: &str,
    ) -> Result<RateLimitDecision, RateLimitError>;
}
