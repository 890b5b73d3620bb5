//! The read-through cache port. Every method fails open: a cache fault is a miss or a no-op
//! (the adapter logs and counts it), never an error for the user's request.

use async_trait::async_trait;

use crate::conversation::{ConversationPage, ConversationSummary};
use crate::ids::{ConversationId, UserId};
use crate::message::ContextMessage;
use crate::paging::{HistoryPage, MessageWindow};
use crate::user::User;

/// Caches conversation reads, model context and user profiles.
#[async_trait]
pub trait ConversationCache: Send + Sync + 'static {
    /// The last `limit` context messages, oldest first; `None` on a miss.
    async fn context(&self, id: ConversationId, limit: u64) -> Option<Vec<ContextMessage>>;

    /// Replaces the context list atomically with `messages`.
    async fn replace_context(&self, id: ConversationId, messages: &[ContextMessage]);

    /// Appends to the context list atomically, trimming it and refreshing its expiry; does
    /// nothing when the list is absent (the next read fills it from the database).
    async fn append_context(&self, id: ConversationId, messages: &[ContextMessage]);

    /// A page of the owner's history; `None` when the cached history is absent.
    async fn history(&self, user_id: UserId, page: HistoryPage)
    -> Option<Vec<ConversationSummary>>;

    /// Stores the owner's complete history (every conversation) for later pages.
    async fn fill_history(&self, user_id: UserId, summaries: &[ConversationSummary]);

    /// Inserts or moves one conversation in the owner's cached history, if it is cached.
    async fn upsert_history(&self, user_id: UserId, summary: &ConversationSummary);

    /// Removes one conversation from the owner's cached history.
    async fn remove_history(&self, user_id: UserId, id: ConversationId);

    /// The cached first page of a conversation; served only when the stored owner is `user_id`.
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Option<ConversationPage>;

    /// Stores a first page of a conversation together with its owner.
    async fn store_detail(&self, window: MessageWindow, page: &ConversationPage);

    /// Drops every cached view of one conversation: detail pages and context.
    async fn invalidate_conversation(&self, user_id: UserId, id: ConversationId);

    /// Drops every cached view of the owner's conversations (after delete-all).
    async fn invalidate_user_conversations(&self, user_id: UserId);

    /// A cached profile for a token-authenticated request.
    async fn user(&self, id: UserId) -> Option<User>;

    /// Caches a profile (never a password hash).
    async fn store_user(&self, user: &User);
}
