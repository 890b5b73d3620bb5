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
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            context_messages: 10,
            max_active_turns_per_user: 3,
            sentiment_timeout_ms: 15_000,
            system_prompt: None,
            store_retry_ms: 30_000,
        }
    }
}
