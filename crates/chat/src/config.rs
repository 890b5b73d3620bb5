//! Chat settings.

use serde::{Deserialize, Serialize};

/// How chat turns run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatConfig {
    /// Earlier messages sent to the model as context.
    pub context_messages: u64,
    /// Chat turns one user may have generating at once; more answer 429.
    pub max_active_turns_per_user: usize,
    /// How long the final sentiment may take before it is given up (neutral fallback).
    pub sentiment_timeout_ms: u64,
    /// A system prompt replacing the built-in Lia persona.
    pub system_prompt: Option<String>,
    /// How long storing a finished turn is retried while the database is unavailable
    /// (a restart, a failover) before the turn reports a storage error.
    pub store_retry_ms: u64,
    /// How often this instance renews the leases of the turns it generates, and sweeps for
    /// turns whose lease expired (their instance died) to recover them.
    pub lease_renew_ms: u64,
    /// How long a lease lives without renewal: a turn is recovered this long after its
    /// instance stopped renewing.
    pub lease_ttl_ms: u64,
    /// How often the turn records in the database are checked for orphans no lease covers
    /// (a lost lease store, a turn whose instance died before its first renewal, a reply
    /// that could not be stored); also done once at start-up.
    pub orphan_scan_secs: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            context_messages: 10,
            max_active_turns_per_user: 3,
            sentiment_timeout_ms: 15_000,
            system_prompt: None,
            store_retry_ms: 30_000,
            lease_renew_ms: 1_000,
            lease_ttl_ms: 5_000,
            orphan_scan_secs: 30,
        }
    }
}
