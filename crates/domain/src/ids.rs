//! Typed identifiers, so a user id can never be passed where a message id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A user's id: the `users.id` integer (serialised as a JSON integer, and as a decimal string
/// in a token's `sub` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i32);

/// A message's id: the `messages.id` integer. Ids grow with insertion order within a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub i32);

/// A conversation's id: a UUID chosen by the application (v7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub Uuid);

impl ConversationId {
    /// A fresh, time-ordered (UUID v7) id for a new conversation.
    #[must_use]
    pub fn new_v7() -> Self {
        Self(Uuid::now_v7())
    }
}

impl FromStr for ConversationId {
    type Err = uuid::Error;

    /// Accepts every form the reference accepted: hyphenated, 32 hex digits, braced or
    /// `urn:uuid:`-prefixed, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Lowercase and hyphenated: the canonical wire form.
        self.0.hyphenated().fmt(f)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_parse_every_uuid_form_to_one_canonical_string() {
        let canonical = "0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
        for form in [
            canonical,
            "0AA6B79E-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
            "0aa6b79e1c2d4e5f8a9b0c1d2e3f4a5b",
            "{0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b}",
            "urn:uuid:0aa6b79e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        ] {
            let id: ConversationId = form.parse().unwrap();
            assert_eq!(id.to_string(), canonical, "{form}");
        }
        assert!("not-a-uuid".parse::<ConversationId>().is_err());
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let first = ConversationId::new_v7();
        let second = ConversationId::new_v7();
        assert!(first < second);
    }
}
