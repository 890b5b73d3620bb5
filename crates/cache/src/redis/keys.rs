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
//! | `<p>histpages:{u:<uid>}` | hash | `offset:limit` → that page built as one JSON array, until the history changes |
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

    pub(crate) fn history_pages(&self, user: UserId) -> String {
        format!("{}histpages:{{u:{user}}}", self.prefix)
    }

    pub(crate) fn detail(&self, user: UserId, id: ConversationId, limit: u64) -> String {
        format!("{}detail:{{u:{user}}}:{id}:{limit}", self.prefix)
    }

    /// The keys the history scripts and the history invalidation touch together: one
    /// user's, so one hash slot.
    pub(crate) fn history_group(&self, user: UserId) -> Vec<String> {
        vec![
            self.history(user),
            self.history_meta(user),
            self.history_info(user),
            self.generation(user),
            self.history_pages(user),
        ]
    }

    /// The keys the detail scripts touch together: one user's, so one hash slot.
    pub(crate) fn detail_group(&self, user: UserId, id: ConversationId, limit: u64) -> Vec<String> {
        vec![self.detail(user, id, limit), self.generation(user)]
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
    use fred::util::redis_keyslot;

    fn one_slot(keys: &[String]) -> bool {
        keys.windows(2)
            .all(|pair| redis_keyslot(pair[0].as_bytes()) == redis_keyslot(pair[1].as_bytes()))
    }

    /// Redis Cluster refuses a script or transaction whose keys hash to different slots
    /// (CROSSSLOT): every group of keys used together must share one.
    #[test]
    fn keys_used_together_share_one_cluster_slot() {
        for prefix in ["lia:v1:", "lia:test:0af3:", ""] {
            let keys = Keys::new(prefix);
            let mut slots = std::collections::HashSet::new();
            for n in 1..200 {
                let user = UserId(n * 7_919);
                let conversation = ConversationId::new_v7();
                let history = keys.history_group(user);
                let detail = keys.detail_group(user, conversation, 50);
                assert!(one_slot(&history), "{history:?}");
                assert!(one_slot(&detail), "{detail:?}");
                assert!(one_slot(&[history[0].clone(), detail[0].clone()]));
                let stream = format!("{}", uuid::Uuid::new_v4().simple());
                assert!(one_slot(&[
                    keys.stream(&stream),
                    keys.stream_channel(&stream)
                ]));
                slots.insert(redis_keyslot(history[0].as_bytes()));
            }
            // Different users spread over the cluster rather than all landing on one node.
            assert!(slots.len() > 150, "{} slots for 199 users", slots.len());
        }
    }

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
            keys.history_pages(user),
        ] {
            assert!(key.starts_with("lia:v1:") && key.contains(tag), "{key}");
        }
        assert_eq!(
            keys.rate_limit(RateLimitScope::Auth, "1.2.3.4"),
            "lia:v1:rl:auth:{1.2.3.4}"
        );
    }
}
