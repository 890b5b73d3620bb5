//! The Redis adapters (fred 10): connection set-up from `REDIS_URL` (standalone, sentinel or
//! cluster, as the URL's scheme says), a pool with a per-command timeout and reconnection
//! with backoff, and the three ports on top of it.

mod cache;
mod codec;
mod keys;
mod leases;
mod notify;
mod rate_limit;
mod scripts;
mod stream_buffer;

use std::sync::Arc;
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::{Builder, ClientLike, Config, Pool, ReconnectPolicy};

pub use cache::RedisCache;
pub use leases::RedisTurnLeases;
pub use rate_limit::RedisRateLimiter;
pub use stream_buffer::RedisStreamBuffer;

use crate::config::CacheConfig;
use crate::stats::CacheStats;

/// A TLS connector that verifies the server against the CAs in `ca_file` (PEM).
fn tls_trusting(ca_file: &str) -> Result<fred::types::config::TlsConnector, RedisSetupError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| RedisSetupError(format!("cannot read {ca_file}: {e}")))?;
    for certificate in certificates {
        let certificate =
            certificate.map_err(|e| RedisSetupError(format!("cannot read {ca_file}: {e}")))?;
        roots
            .add(certificate)
            .map_err(|e| RedisSetupError(format!("{ca_file}: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| RedisSetupError(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(config.into())
}

/// Why Redis could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisSetupError(String);

/// Connected pools shared by the three adapters.
#[derive(Clone)]
pub struct RedisConnection {
    pub(crate) pool: Pool,
    /// The instance's one publish-subscribe connection (stream wake-ups, stop requests).
    pub(crate) subscriber: SubscriberClient,
    pub(crate) keys: keys::Keys,
    pub(crate) timeout: Duration,
    pub(crate) stats: Arc<CacheStats>,
}

impl std::fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConnection")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// Connects to `url` with `config`'s pool size and timeout, counting faults into `stats`.
    /// Waits up to `connect_wait` for the first connection; past it the pools keep
    /// reconnecting in the background (with backoff) and every operation fails open until
    /// Redis answers, so a Redis outage at start-up does not stop the server.
    ///
    /// # Errors
    /// When the URL is invalid.
    pub async fn connect(
        url: &str,
        config: &CacheConfig,
        stats: Arc<CacheStats>,
        connect_wait: Duration,
    ) -> Result<Self, RedisSetupError> {
        let timeout = Duration::from_millis(config.command_timeout_ms.max(1));
        let mut redis_config = Config::from_url(url).map_err(|e| RedisSetupError(e.to_string()))?;
        redis_config.fail_fast = false;
        if let Some(ca_file) = &config.redis_tls_ca_file {
            if redis_config.tls.is_none() {
                return Err(RedisSetupError(
                    "cache.redis_tls_ca_file is set but the URL is not rediss://".into(),
                ));
            }
            redis_config.tls = Some(tls_trusting(ca_file)?.into());
        }
        let mut builder = Builder::from_config(redis_config);
        builder
            .with_performance_config(|performance| performance.default_command_timeout = timeout)
            .with_connection_config(|connection| {
                connection.connection_timeout = Duration::from_secs(3);
                connection.internal_command_timeout = Duration::from_secs(3);
                connection.max_command_attempts = 2;
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
        let pool = builder
            .build_pool(config.pool_size.max(1))
            .map_err(|e| RedisSetupError(e.to_string()))?;
        let subscriber = builder
            .build_subscriber_client()
            .map_err(|e| RedisSetupError(e.to_string()))?;
        // The connection tasks live as long as the clients; their handles are not needed.
        drop(pool.connect_pool());
        drop(subscriber.connect());
        let waited = tokio::time::timeout(connect_wait, async {
            (
                pool.wait_for_connect().await,
                subscriber.wait_for_connect().await,
            )
        })
        .await;
        if !matches!(waited, Ok((Ok(()), Ok(())))) {
            tracing::error!(url = %lia_domain::urls::masked(url), "redis is not answering; the cache fails open and the auth limit fails closed until it does");
        }
        Ok(Self {
            pool,
            subscriber,
            keys: keys::Keys::new(&config.key_prefix),
            timeout,
            stats,
        })
    }

    /// Closes the pool and the subscriber connection (at shutdown).
    pub async fn close(&self) {
        let _ = tokio::time::timeout(self.timeout, async {
            let _ = self.pool.quit().await;
            let _ = self.subscriber.quit().await;
        })
        .await;
    }

    /// Pings the server (for health checks).
    ///
    /// # Errors
    /// A short description when Redis does not answer in time.
    pub async fn ping(&self) -> Result<(), String> {
        let ping = self.pool.ping::<String>(None);
        match tokio::time::timeout(self.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err("error".into()),
            Err(_) => Err("timeout".into()),
        }
    }

    /// Runs a cache operation within the command timeout; a fault is logged, counted and
    /// returned as `None` so the caller fails open.
    pub(crate) async fn bounded<T>(
        &self,
        what: &'static str,
        operation: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Option<T> {
        match tokio::time::timeout(self.timeout, operation).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.stats.fault();
                tracing::warn!(operation = what, %error, "redis command failed; continuing without the cache");
                None
            }
            Err(_) => {
                self.stats.fault();
                tracing::warn!(
                    operation = what,
                    "redis command timed out; continuing without the cache"
                );
                None
            }
        }
    }
}
