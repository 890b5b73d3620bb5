//! Conversations, their summaries in the history list, and a page of their messages.

use time::OffsetDateTime;

use crate::ids::{ConversationId, UserId};
use crate::message::Message;
use crate::sentiment::CumulativeSentiment;

/// A stored conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Its owner: the only user who may read or change it.
    pub user_id: UserId,
    /// Its title; null until the first message sets it.
    pub title: Option<String>,
    /// The cumulative sentiment so far; `None` means the default state.
    pub sentiment_state: Option<CumulativeSentiment>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// Bumped by every new message and rename: the history order.
    pub updated_at: OffsetDateTime,
}

/// One row of the history list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The conversation's id.
    pub id: ConversationId,
    /// Its title.
    pub title: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// How many messages it holds, user and assistant alike.
    pub message_count: u64,
}

/// A conversation with one page of its messages, oldest first, and the paging totals.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationPage {
    /// The conversation.
    pub conversation: Conversation,
    /// The page, oldest first.
    pub messages: Vec<Message>,
    /// How many messages the conversation holds in all.
    pub total_messages: u64,
    /// Whether messages exist beyond this page in the paging direction (older for offset and
    /// `before` paging, newer for `after` paging).
    pub has_more: bool,
}
