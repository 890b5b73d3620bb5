//! The turn-lease port: every chat turn that is generating holds a lease, renewed by its
//! instance and expiring when that instance stops renewing (it died, or lost its way to the
//! lease store). Leases count a user's active turns across every instance, so the per-user
//! cap holds however many instances there are, and an expired lease tells the surviving
//! instances which turns to recover.

use async_trait::async_trait;

use crate::error::BoxError;
use crate::ids::UserId;

/// The lease store could not decide (backend unreachable or timed out).
#[derive(Debug, thiserror::Error)]
#[error("turn leases unavailable")]
pub struct LeaseError(#[source] pub BoxError);

/// A lease to renew: the turn's owner and stream id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The owner (whose cap the turn counts against).
    pub user_id: UserId,
    /// The turn's stream id.
    pub stream_id: String,
}

/// Leases on the turns generating anywhere.
#[async_trait]
pub trait TurnLeases: Send + Sync + 'static {
    /// Takes a lease on `lease.stream_id` unless its user already holds `cap` live leases.
    /// True when taken. The lease expires unless renewed.
    ///
    /// # Errors
    /// [`LeaseError`] when the store cannot decide; the caller applies its own fallback.
    async fn acquire(&self, lease: &Lease, cap: usize) -> Result<bool, LeaseError>;

    /// Renews `leases` (this instance's turns), in one round trip.
    ///
    /// # Errors
    /// [`LeaseError`] when the store cannot be reached.
    async fn renew(&self, leases: &[Lease]) -> Result<(), LeaseError>;

    /// Gives a lease up (the turn is finished).
    ///
    /// # Errors
    /// [`LeaseError`] when the store cannot be reached; the lease then simply expires.
    async fn release(&self, lease: &Lease) -> Result<(), LeaseError>;

    /// Up to `max` stream ids whose lease expired, each removed as it is returned, so every
    /// expired turn is handed to exactly one caller, on any instance.
    ///
    /// # Errors
    /// [`LeaseError`] when the store cannot be reached.
    async fn claim_expired(&self, max: usize) -> Result<Vec<String>, LeaseError>;

    /// Whether other server instances see these leases (Redis) or only this process does
    /// (in process). With local leases, a turn record that this process does not generate is
    /// an orphan of an earlier process the moment it is seen.
    fn shared(&self) -> bool;

    /// Whether `lease` has not expired.
    ///
    /// # Errors
    /// [`LeaseError`] when the store cannot be reached.
    async fn is_live(&self, lease: &Lease) -> Result<bool, LeaseError>;
}
