//! A short in-process cache of the users tokens name, so an authenticated read does not pay a
//! database round trip for the account check.
//!
//! That check was most of the CPU of a cached history read: on SQLite every query is handed
//! to a worker thread and back, on PostgreSQL it is a network round trip. A user's requests
//! come in bursts (a page load asks for the history, a conversation and the profile), so a
//! cache of a few seconds answers most of them.
//!
//! **The bound it costs.** Lia never changes or deletes a user itself, so nothing in the
//! process could invalidate an entry: an account deleted in the database (by an operator) is
//! still served for at most `ttl_ms` by each instance that cached it, and refused from then
//! on. `ttl_ms = 0` turns the cache off, for deployments that need the refusal at once. Age
//! is read from the injected [`Clock`], so tests move time instead of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lia_domain::clock::Clock;
use lia_domain::{User, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How long and how many users are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileCacheConfig {
    /// How long a user read for one request answers later ones, in milliseconds; the longest
    /// an account deleted in the database is still accepted. `0` turns the cache off.
    pub ttl_ms: u64,
    /// How many users are kept, least recently used evicted first.
    pub max_entries: u64,
}

impl Default for ProfileCacheConfig {
    fn default() -> Self {
        Self {
            ttl_ms: 2_000,
            max_entries: 100_000,
        }
    }
}

#[derive(Debug)]
struct Entry {
    user: User,
    read_at: OffsetDateTime,
}

/// The cache; cheap to clone (the entries are shared).
#[derive(Clone)]
pub struct ProfileCache {
    entries: Option<moka::sync::Cache<UserId, Arc<Entry>>>,
    ttl: time::Duration,
    clock: Arc<dyn Clock>,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ProfileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileCache")
            .field("ttl", &self.ttl)
            .field("enabled", &self.entries.is_some())
            .finish_non_exhaustive()
    }
}

impl ProfileCache {
    /// A cache configured by `config`, aging entries by `clock`.
    #[must_use]
    pub fn new(config: ProfileCacheConfig, clock: Arc<dyn Clock>) -> Self {
        let entries = (config.ttl_ms > 0).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(config.max_entries.max(1))
                .build()
        });
        Self {
            entries,
            ttl: time::Duration::milliseconds(i64::try_from(config.ttl_ms).unwrap_or(i64::MAX)),
            clock,
            counters: Arc::default(),
        }
    }

    /// A cache that keeps nothing: every check reads the database.
    #[must_use]
    pub fn disabled() -> Self {
        Self::new(
            ProfileCacheConfig {
                ttl_ms: 0,
                ..ProfileCacheConfig::default()
            },
            Arc::new(lia_domain::clock::SystemClock),
        )
    }

    /// The user, when read less than the TTL ago; an older entry is dropped.
    #[must_use]
    pub fn get(&self, id: UserId) -> Option<User> {
        let entries = self.entries.as_ref()?;
        let now = self.clock.now();
        // An entry from the future (the wall clock stepped back) counts as stale too.
        let fresh = entries.get(&id).filter(|entry| {
            let age = now - entry.read_at;
            age >= time::Duration::ZERO && age < self.ttl
        });
        match fresh {
            Some(entry) => {
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                Some(entry.user.clone())
            }
            None => {
                entries.invalidate(&id);
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Keeps `user`, as read from the database now.
    pub fn put(&self, user: &User) {
        if let Some(entries) = &self.entries {
            entries.insert(
                user.id,
                Arc::new(Entry {
                    user: user.clone(),
                    read_at: self.clock.now(),
                }),
            );
        }
    }

    /// Checks answered from the cache, and checks that had to read the database (while the
    /// cache is on), for `/metrics`.
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        (
            self.counters.hits.load(Ordering::Relaxed),
            self.counters.misses.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use lia_domain::clock::ManualClock;
    use lia_domain::{Email, Username};

    use super::*;

    fn user(id: i32) -> User {
        User {
            id: UserId(id),
            email: Email::parse("ada@example.com").unwrap(),
            username: Username::parse("ada").unwrap(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn cache(ttl_ms: u64) -> (ProfileCache, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::at(OffsetDateTime::UNIX_EPOCH));
        let config = ProfileCacheConfig {
            ttl_ms,
            max_entries: 10,
        };
        (ProfileCache::new(config, clock.clone()), clock)
    }

    #[test]
    fn a_user_is_served_until_the_ttl_passes_then_dropped() {
        let (cache, clock) = cache(2_000);
        assert_eq!(cache.get(UserId(1)), None);
        cache.put(&user(1));
        clock.advance(time::Duration::milliseconds(1_999));
        assert_eq!(cache.get(UserId(1)), Some(user(1)));
        clock.advance(time::Duration::milliseconds(1));
        assert_eq!(cache.get(UserId(1)), None, "at the TTL it is stale");
        let entries = cache.entries.as_ref().unwrap();
        assert!(!entries.contains_key(&UserId(1)), "and dropped, not kept");
        assert_eq!(cache.counts(), (1, 2));
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let (cache, _) = cache(0);
        cache.put(&user(1));
        assert_eq!(cache.get(UserId(1)), None);
        assert_eq!(cache.counts(), (0, 0));
    }
}
