//! Dependency probes, implemented by the server for its database and cache.

use async_trait::async_trait;

/// One dependency's check.
#[async_trait]
pub trait Probe: Send + Sync + 'static {
    /// `database` or `cache`.
    fn service(&self) -> &'static str;
    /// What it is, e.g. `postgresql`, `sqlite`, `redis`, `memory`.
    fn kind(&self) -> &'static str;
    /// Checks the dependency; `Err` carries a short, safe description (never a raw error).
    async fn check(&self) -> Result<(), String>;
}
