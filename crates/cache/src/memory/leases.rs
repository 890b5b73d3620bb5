//! [`TurnLeases`] in process memory, for one server instance: the same rules as Redis, on
//! the process clock (Tokio's, so tests can move it). Expired leases are found through an
//! index ordered by expiry, so a sweep costs O(log n) per lease it returns.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use lia_domain::UserId;
use lia_domain::ports::{Lease, LeaseError, TurnLeases};
use tokio::time::Instant;

#[derive(Debug, Default)]
struct State {
    /// Each lease's owner and expiry.
    leases: HashMap<String, (UserId, Instant)>,
    /// Each user's leases and their expiries.
    per_user: HashMap<UserId, HashMap<String, Instant>>,
    /// (expiry, stream id), soonest first.
    by_expiry: BTreeSet<(Instant, String)>,
}

impl State {
    fn remove(&mut self, stream_id: &str) -> bool {
        let Some((user, expiry)) = self.leases.remove(stream_id) else {
            return false;
        };
        self.by_expiry.remove(&(expiry, stream_id.to_owned()));
        if let Some(streams) = self.per_user.get_mut(&user) {
            streams.remove(stream_id);
            if streams.is_empty() {
                self.per_user.remove(&user);
            }
        }
        true
    }

    fn set(&mut self, lease: &Lease, expiry: Instant) {
        self.remove(&lease.stream_id);
        self.leases
            .insert(lease.stream_id.clone(), (lease.user_id, expiry));
        self.by_expiry.insert((expiry, lease.stream_id.clone()));
        self.per_user
            .entry(lease.user_id)
            .or_default()
            .insert(lease.stream_id.clone(), expiry);
    }

    /// The live leases of `user` (expired ones stay until claimed, but do not count).
    fn live_of(&self, user: UserId, now: Instant) -> usize {
        self.per_user.get(&user).map_or(0, |streams| {
            streams.values().filter(|expiry| **expiry > now).count()
        })
    }
}

/// The in-process lease store.
#[derive(Debug)]
pub struct MemoryTurnLeases {
    state: Mutex<State>,
    ttl: Duration,
}

impl MemoryTurnLeases {
    /// Leases that expire `ttl` after they were taken or last renewed.
    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ttl,
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, State>, LeaseError> {
        self.state
            .lock()
            .map_err(|_| LeaseError("lock poisoned".into()))
    }
}

#[async_trait]
impl TurnLeases for MemoryTurnLeases {
    async fn acquire(&self, lease: &Lease, cap: usize) -> Result<bool, LeaseError> {
        let now = Instant::now();
        let mut state = self.lock()?;
        let held = state
            .leases
            .get(&lease.stream_id)
            .is_some_and(|(owner, expiry)| *owner == lease.user_id && *expiry > now);
        if !held && state.live_of(lease.user_id, now) >= cap {
            return Ok(false);
        }
        state.set(lease, now + self.ttl);
        Ok(true)
    }

    async fn renew(&self, leases: &[Lease]) -> Result<(), LeaseError> {
        let expiry = Instant::now() + self.ttl;
        let mut state = self.lock()?;
        for lease in leases {
            state.set(lease, expiry);
        }
        Ok(())
    }

    async fn release(&self, lease: &Lease) -> Result<(), LeaseError> {
        self.lock()?.remove(&lease.stream_id);
        Ok(())
    }

    async fn claim_expired(&self, max: usize) -> Result<Vec<String>, LeaseError> {
        let now = Instant::now();
        let mut state = self.lock()?;
        let expired: Vec<String> = state
            .by_expiry
            .iter()
            .take_while(|(expiry, _)| *expiry <= now)
            .take(max)
            .map(|(_, stream_id)| stream_id.clone())
            .collect();
        for stream_id in &expired {
            state.remove(stream_id);
        }
        Ok(expired)
    }

    fn shared(&self) -> bool {
        false
    }

    async fn is_live(&self, lease: &Lease) -> Result<bool, LeaseError> {
        let now = Instant::now();
        Ok(self
            .lock()?
            .leases
            .get(&lease.stream_id)
            .is_some_and(|(_, expiry)| *expiry > now))
    }
}
