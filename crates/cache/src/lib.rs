#![doc = include_str!("../README.md")]

mod config;
pub mod gcra;
pub mod memory;
mod stats;

pub use config::{CacheConfig, RateLimitConfig};
pub use memory::{MemoryCache, MemoryRateLimiter, MemoryStreamBuffer};
pub use stats::{CacheKind, CacheStats};
