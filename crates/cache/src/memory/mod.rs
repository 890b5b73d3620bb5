//! In-process twins of the Redis adapters: the same ports, bounded in size and with TTLs,
//! used when no Redis is configured (one server instance). They pass the same test suite.

mod cache;
mod leases;
mod rate_limit;
mod stream_buffer;

pub use cache::MemoryCache;
pub use leases::MemoryTurnLeases;
pub use rate_limit::MemoryRateLimiter;
pub use stream_buffer::{MemoryStreamBuffer, MemoryStreamLimits};
