//! The usage ledger: tokens per user and day, and per-user quota overrides.

use async_trait::async_trait;
use time::Date;

use crate::error::RepositoryError;
use crate::ids::UserId;

/// Tokens one user spent on one UTC day with one provider's model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageRow {
    /// The UTC day.
    pub day: Date,
    /// The provider that answered.
    pub provider: String,
    /// The model asked of it.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens, reasoning included.
    pub completion_tokens: u64,
    /// Of those, reasoning tokens (where reported or estimated).
    pub reasoning_tokens: u64,
    /// Replies counted.
    pub turns: u64,
}

impl UsageRow {
    /// Prompt plus completion tokens: what a quota counts.
    #[must_use]
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// Where usage is read from and quota overrides are kept. The ledger itself is written by
/// [`ConversationRepository::finish_turn`](super::ConversationRepository::finish_turn), in
/// the transaction that stores the reply, so it never disagrees with the stored replies.
#[async_trait]
pub trait UsageRepository: Send + Sync + 'static {
    /// The user's rows from `from` to `to` (inclusive), oldest day first.
    async fn usage(
        &self,
        user_id: UserId,
        from: Date,
        to: Date,
    ) -> Result<Vec<UsageRow>, RepositoryError>;

    /// Prompt plus completion tokens the user spent on `day`.
    async fn tokens_spent(&self, user_id: UserId, day: Date) -> Result<u64, RepositoryError>;

    /// The user's own daily budget, when one is set (0: unlimited).
    async fn quota_override(&self, user_id: UserId) -> Result<Option<u64>, RepositoryError>;

    /// Sets (or with `None` clears) the user's own daily budget.
    async fn set_quota_override(
        &self,
        user_id: UserId,
        daily_tokens: Option<u64>,
    ) -> Result<(), RepositoryError>;
}
