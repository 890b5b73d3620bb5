//! The key schema. Every key starts with the configured versioned prefix (default
//! `lia:v1:`), so deployments and future schema versions can share one Redis. Keys of one
//! user share the hash tag `{u:<id>}`, so a transaction or script over them stays in one
//! cluster slot.
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `<p>gen:{u:<uid>}` | string | the user's cache generation (fill tokens) |
//! | `<p>hist:{u:<uid>}` | sorted set | conversation ids scored by `updated_at` (µs) |
//! | `<p>histmeta:{u:<uid>}` | hash | conversation id → summary JSON |
//! | `<p>histinfo:{u:<uid>}` | string | `complete` or `partial` |
//! | `<p>detail:{u:<uid>}:<cid>:<limit>` | string | first page JSON with owner and generation |
//! | `<p>rl:<scope>:{<key>}` | string | rate-limit theoretical arrival time (µs) |
//! | `<p>stream:{<stream id>}` | stream | a chat turn's events, one entry per batch |
//! | `<p>ev:{<stream id>}` | channel | a wake-up after each batch appended to that stream |
//! | `<p>stops` | channel | stop requests (the stream id), heard by every instance |
//! | `<p>turns:{u:<uid>}` | sorted set | the user's turn leases, scored by expiry (ms) |
//! | `<p>leases` | sorted set | every turn lease, scored by expiry (ms), for recovery |

use lia_domain::ports::RateLimitScope;
use lia_domain::{ConversationId, UserId};

/// Builds keys under one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    pub(crate) fn generation(&self, user: UserId) -> String {
        format!("{}gen:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn history(&self, user: UserId) -> String {
        format!("{}hist:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn history_meta(&self, user: UserId) -> String {
        format!("{}histmeta:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn history_info(&self, user: UserId) -> String {
        format!("{}histinfo:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn detail(&self, user: UserId, id: ConversationId, limit: u64) -> String {
        format!("{}detail:{{u:{user}}}:{id}:{limit}", self.prefix)
    }

    pub(crate) fn rate_limit(&self, scope: RateLimitScope, key: &str) -> String {
        let scope = match scope {
            RateLimitScope::Auth => "auth",
            RateLimitScope::Chat => "chat",
            RateLimitScope::General => "general",
        };
        format!("{}rl:{scope}:{{{key}}}", self.prefix)
    }

    pub(crate) fn stream(&self, stream_id: &str) -> String {
        format!("{}stream:{{{stream_id}}}", self.prefix)
    }

    pub(crate) fn user_leases(&self, user: UserId) -> String {
        format!("{}turns:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn leases(&self) -> String {
        format!("{}leases", self.prefix)
    }

    pub(crate) fn stream_channel(&self, stream_id: &str) -> String {
        format!("{}ev:{{{stream_id}}}", self.prefix)
    }

    pub(crate) fn stops_channel(&self) -> String {
        format!("{}stops", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_one_user_share_a_hash_tag() {
        let keys = Keys::new("lia:v1:");
        let user = UserId(7);
        let tag = "{u:7}";
        for key in [
            keys.generation(user),
            keys.history(user),
            keys.history_meta(user),
            keys.history_info(user),
        ] {
            assert!(key.starts_with("lia:v1:") && key.contains(tag), "{key}");
        }
        assert_eq!(
            keys.rate_limit(RateLimitScope::Auth, "1.2.3.4"),
            "lia:v1:rl:auth:{1.2.3.4}"
        );
    }
}
