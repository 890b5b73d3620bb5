#![doc = include_str!("../README.md")]

mod config;
pub mod gcra;
pub mod memory;
pub mod redis;
mod stats;

pub use config::{CacheConfig, RateLimitConfig};
pub use memory::{
    MemoryCache, MemoryRateLimiter, MemoryStreamBuffer, MemoryStreamLimits, MemoryTurnLeases,
};
pub use redis::{
    RedisCache, RedisConnection, RedisRateLimiter, RedisStreamBuffer, RedisTurnLeases,
};
pub use stats::{CacheKind, CacheStats};
