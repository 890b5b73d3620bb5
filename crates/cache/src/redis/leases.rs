//! [`TurnLeases`] over Redis, on the Redis server's clock (instances' clocks never have to
//! agree):
//!
//! - each user's leases are a sorted set scored by expiry; taking one is a Lua script that
//!   drops expired entries and admits the lease below the cap, atomically (one round trip);
//! - every lease is also in one global index scored by expiry, written by the renewal
//!   (a pipeline, once a second per instance, for all of its turns) and read by the sweep,
//!   a script that removes each expired id as it returns it, so one instance claims it.
//!
//! A turn whose instance died in the first second (before its first renewal) is not in the
//! index yet; the periodic scan of the database's turn records finds it instead.

use async_trait::async_trait;
use fred::prelude::{ClientLike, KeysInterface, SortedSetsInterface, Value};
use fred::types::{ClusterHash, CustomCommand};
use lia_domain::ports::{Lease, LeaseError, TurnLeases};

use super::RedisConnection;
use super::scripts::{ACQUIRE_LEASE_SCRIPT, CLAIM_EXPIRED_SCRIPT, LEASE_IS_LIVE_SCRIPT};

/// The Redis lease store.
#[derive(Debug, Clone)]
pub struct RedisTurnLeases {
    redis: RedisConnection,
    ttl_ms: i64,
}

impl RedisTurnLeases {
    /// Leases over `redis` that expire `ttl_ms` after they were taken or last renewed.
    #[must_use]
    pub fn new(redis: RedisConnection, ttl_ms: u64) -> Self {
        Self {
            redis,
            ttl_ms: i64::try_from(ttl_ms.max(1)).unwrap_or(i64::MAX),
        }
    }

    async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Result<T, LeaseError> {
        match tokio::time::timeout(self.redis.timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(LeaseError(Box::new(error))),
            Err(_) => Err(LeaseError("turn lease command timed out".into())),
        }
    }

    /// The Redis server's time, in milliseconds.
    async fn now_ms(&self) -> Result<i64, LeaseError> {
        let (seconds, micros): (i64, i64) = self
            .bounded(self.redis.pool.next().custom(
                CustomCommand::new("TIME", ClusterHash::Random, false),
                Vec::<Value>::new(),
            ))
            .await?;
        Ok(seconds * 1_000 + micros / 1_000)
    }
}

#[async_trait]
impl TurnLeases for RedisTurnLeases {
    async fn acquire(&self, lease: &Lease, cap: usize) -> Result<bool, LeaseError> {
        let taken: i64 = self
            .bounded(ACQUIRE_LEASE_SCRIPT.evalsha_with_reload(
                self.redis.pool.next(),
                vec![self.redis.keys.user_leases(lease.user_id)],
                vec![
                    lease.stream_id.clone(),
                    cap.to_string(),
                    self.ttl_ms.to_string(),
                ],
            ))
            .await?;
        Ok(taken == 1)
    }

    async fn renew(&self, leases: &[Lease]) -> Result<(), LeaseError> {
        if leases.is_empty() {
            return Ok(());
        }
        #[expect(
            clippy::cast_precision_loss,
            reason = "milliseconds since the epoch are exact in an f64 for millennia"
        )]
        let expiry = (self.now_ms().await? + self.ttl_ms) as f64;
        let pipeline = self.redis.pool.next().pipeline();
        for lease in leases {
            let user_key = self.redis.keys.user_leases(lease.user_id);
            let _: Result<(), _> = pipeline
                .zadd(
                    &user_key,
                    None,
                    None,
                    false,
                    false,
                    (expiry, lease.stream_id.as_str()),
                )
                .await;
            let _: Result<(), _> = pipeline.pexpire(&user_key, self.ttl_ms * 2, None).await;
            let _: Result<(), _> = pipeline
                .zadd(
                    self.redis.keys.leases(),
                    None,
                    None,
                    false,
                    false,
                    (expiry, lease.stream_id.as_str()),
                )
                .await;
        }
        self.bounded(pipeline.all::<Value>()).await?;
        Ok(())
    }

    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        let pipeline = self.redis.pool.next().pipeline();
        let _: Result<(), _> = pipeline
            .zrem(
                self.redis.keys.user_leases(lease.user_id),
                lease.stream_id.as_str(),
            )
            .await;
        let _: Result<(), _> = pipeline
            .zrem(self.redis.keys.leases(), lease.stream_id.as_str())
            .await;
        self.bounded(pipeline.all::<Value>()).await?;
        Ok(())
    }

    async fn claim_expired(&self, max: usize) -> Result<Vec<String>, LeaseError> {
        self.bounded(CLAIM_EXPIRED_SCRIPT.evalsha_with_reload(
            self.redis.pool.next(),
            vec![self.redis.keys.leases()],
            vec![max.to_string()],
        ))
        .await
    }

    fn shared(&self) -> bool {
        true
    }

    async fn is_live(&self, lease: &Lease) -> Result<bool, LeaseError> {
        let live: i64 = self
            .bounded(LEASE_IS_LIVE_SCRIPT.evalsha_with_reload(
                self.redis.pool.next(),
                vec![self.redis.keys.user_leases(lease.user_id)],
                vec![lease.stream_id.clone()],
            ))
            .await?;
        Ok(live == 1)
    }
}
