//! Health probes for the database and the cache.

use std::sync::Arc;

use async_trait::async_trait;
use lia_api::Probe;
use lia_store::DatabaseConnection;

/// `SELECT 1`-style ping of the pool.
pub(crate) struct DatabaseProbe {
    pub(crate) connection: DatabaseConnection,
    pub(crate) kind: &'static str,
}

#[async_trait]
impl Probe for DatabaseProbe {
    fn service(&self) -> &'static str {
        "database"
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn check(&self) -> Result<(), String> {
        self.connection
            .ping()
            .await
            .map_err(|_| "unreachable".to_owned())
    }
}

/// The in-process cache is part of the process: healthy while the process is.
pub(crate) struct MemoryCacheProbe;

#[async_trait]
impl Probe for MemoryCacheProbe {
    fn service(&self) -> &'static str {
        "cache"
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A Redis `PING` within the command timeout.
pub(crate) struct RedisProbe {
    pub(crate) redis: lia_cache::RedisConnection,
}

#[async_trait]
impl Probe for RedisProbe {
    fn service(&self) -> &'static str {
        "cache"
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn check(&self) -> Result<(), String> {
        self.redis.ping().await
    }
}

/// Shared by the server's wiring.
pub(crate) type Probes = Vec<Arc<dyn Probe>>;
