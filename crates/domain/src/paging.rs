//! Paging parameters, bounded on construction.

use crate::error::ValidationError;
use crate::ids::MessageId;

/// A page of the history list: `limit` conversations after skipping `offset`,
/// newest `updated_at` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPage {
    offset: u64,
    limit: u64,
}

impl HistoryPage {
    /// The default page size.
    pub const DEFAULT_LIMIT: u64 = 20;
    /// The largest page size.
    pub const MAX_LIMIT: u64 = 100;

    /// A page with `limit` in 1..=100.
    ///
    /// # Errors
    /// A [`ValidationError`] on `limit`.
    pub fn new(offset: u64, limit: u64) -> Result<Self, ValidationError> {
        check_limit(limit, Self::MAX_LIMIT)?;
        check_offset(offset)?;
        Ok(Self { offset, limit })
    }

    /// Conversations to skip.
    #[must_use]
    pub fn offset(self) -> u64 {
        self.offset
    }

    /// Conversations to return at most.
    #[must_use]
    pub fn limit(self) -> u64 {
        self.limit
    }
}

impl Default for HistoryPage {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// Which messages of a conversation to return, oldest first in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAnchor {
    /// Skip the newest `offset` messages and take the `limit` before them; offset 0 is the
    /// latest page. This is how the frontend's "load older messages" pages.
    FromNewest {
        /// Newest messages to skip.
        offset: u64,
    },
    /// The `limit` messages immediately older than this one (keyset paging).
    Before(MessageId),
    /// The `limit` messages immediately newer than this one (keyset paging).
    After(MessageId),
}

/// A window of a conversation's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageWindow {
    anchor: MessageAnchor,
    limit: u64,
}

impl MessageWindow {
    /// The default page size.
    pub const DEFAULT_LIMIT: u64 = 50;
    /// The largest page size.
    pub const MAX_LIMIT: u64 = 200;

    /// A window with `limit` in 1..=200.
    ///
    /// # Errors
    /// A [`ValidationError`] on `limit`.
    pub fn new(anchor: MessageAnchor, limit: u64) -> Result<Self, ValidationError> {
        check_limit(limit, Self::MAX_LIMIT)?;
        if let MessageAnchor::FromNewest { offset } = anchor {
            check_offset(offset)?;
        }
        Ok(Self { anchor, limit })
    }

    /// The latest `limit` messages.
    ///
    /// # Errors
    /// A [`ValidationError`] on `limit`.
    pub fn latest(limit: u64) -> Result<Self, ValidationError> {
        Self::new(MessageAnchor::FromNewest { offset: 0 }, limit)
    }

    /// Where the window sits.
    #[must_use]
    pub fn anchor(self) -> MessageAnchor {
        self.anchor
    }

    /// Messages to return at most.
    #[must_use]
    pub fn limit(self) -> u64 {
        self.limit
    }

    /// The offset to report back to the client (0 for keyset windows).
    #[must_use]
    pub fn offset(self) -> u64 {
        match self.anchor {
            MessageAnchor::FromNewest { offset } => offset,
            MessageAnchor::Before(_) | MessageAnchor::After(_) => 0,
        }
    }
}

impl Default for MessageWindow {
    fn default() -> Self {
        Self {
            anchor: MessageAnchor::FromNewest { offset: 0 },
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// Largest offset accepted: databases take offsets as signed 64-bit integers.
pub const MAX_OFFSET: u64 = i64::MAX as u64;

fn check_offset(offset: u64) -> Result<(), ValidationError> {
    if offset <= MAX_OFFSET {
        Ok(())
    } else {
        Err(ValidationError::new("offset", "is too large"))
    }
}

fn check_limit(limit: u64, max: u64) -> Result<(), ValidationError> {
    if (1..=max).contains(&limit) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "limit",
            format!("must be between 1 and {max}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded() {
        assert!(HistoryPage::new(0, 0).is_err());
        assert!(HistoryPage::new(0, 101).is_err());
        assert_eq!(HistoryPage::new(5, 100).unwrap().offset(), 5);
        assert!(MessageWindow::latest(200).is_ok());
        assert_eq!(MessageWindow::latest(201).unwrap_err().field, "limit");
        assert_eq!(HistoryPage::new(u64::MAX, 20).unwrap_err().field, "offset");
        assert!(
            MessageWindow::new(
                MessageAnchor::FromNewest {
                    offset: MAX_OFFSET + 1
                },
                5
            )
            .is_err()
        );
    }
}
