//! Persistence ports for users and conversations. Every conversation operation is scoped to
//! its owner: another user's conversation is reported as [`RepositoryError::NotFound`], so
//! its existence is never revealed.

use async_trait::async_trait;

use crate::conversation::{Conversation, ConversationPage, ConversationSummary};
use crate::error::RepositoryError;
use crate::ids::{ConversationId, MessageId, UserId};
use crate::message::{ContextMessage, MessageSentiment, ModelInfo};
use crate::paging::{HistoryPage, MessageWindow};
use crate::sentiment::CumulativeSentiment;
use crate::user::{NewUser, PasswordHash, User, UserCredentials};
use crate::values::{Email, MessageText, Title, Username};

/// Accounts.
#[async_trait]
pub trait UserRepository: Send + Sync + 'static {
    /// Stores a new user.
    ///
    /// # Errors
    /// [`RepositoryError::Conflict`] when the email or username is taken, even when two
    /// registrations race (the unique indexes decide).
    async fn create(&self, user: NewUser) -> Result<User, RepositoryError>;

    /// The user with `id`, if any.
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepositoryError>;

    /// The user registered with exactly this (normalised) email, with their hash, for login.
    async fn find_credentials(
        &self,
        email: &Email,
    ) -> Result<Option<UserCredentials>, RepositoryError>;

    /// Whether an account uses this email or this username.
    async fn exists(&self, email: &Email, username: &Username) -> Result<bool, RepositoryError>;

    /// Replaces a user's hash, e.g. when a legacy bcrypt hash is upgraded at login.
    async fn update_password_hash(
        &self,
        id: UserId,
        hash: PasswordHash,
    ) -> Result<(), RepositoryError>;
}

/// The start of a chat turn: the user's message, into a given or a new conversation.
#[derive(Debug, Clone)]
pub struct NewTurn {
    /// The owner.
    pub user_id: UserId,
    /// An existing conversation of the owner's, or `None` to start a new one.
    pub conversation_id: Option<ConversationId>,
    /// The user's message.
    pub content: MessageText,
}

/// What [`ConversationRepository::start_turn`] stored.
#[derive(Debug, Clone)]
pub struct StartedTurn {
    /// The conversation, after the turn's changes (title, `updated_at`).
    pub conversation: Conversation,
    /// Whether it was created by this turn.
    pub created: bool,
    /// The id of the stored user message.
    pub user_message_id: MessageId,
    /// How many messages the conversation held before this one.
    pub previous_messages: u64,
}

/// The end of a chat turn: the reply and the sentiment computed for it.
#[derive(Debug, Clone)]
pub struct FinishedTurn {
    /// The owner.
    pub user_id: UserId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user message this turn answered.
    pub user_message_id: MessageId,
    /// The reply text (possibly partial; `model_info.finish_reason` says so).
    pub reply: String,
    /// How the reply was produced.
    pub model_info: ModelInfo,
    /// The user message's sentiment, if computed.
    pub user_sentiment: Option<MessageSentiment>,
    /// The conversation's new cumulative state, if computed.
    pub sentiment_state: Option<CumulativeSentiment>,
}

/// Conversations and their messages.
#[async_trait]
pub trait ConversationRepository: Send + Sync + 'static {
    /// The owner's conversations with their message counts, newest `updated_at` first, in one
    /// query.
    async fn history(
        &self,
        user_id: UserId,
        page: HistoryPage,
    ) -> Result<Vec<ConversationSummary>, RepositoryError>;

    /// The conversation, one window of its messages (oldest first) and the total count, in
    /// at most two database round trips.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is not the owner's.
    async fn detail(
        &self,
        user_id: UserId,
        id: ConversationId,
        window: MessageWindow,
    ) -> Result<ConversationPage, RepositoryError>;

    /// The last `limit` messages, oldest first, as model context.
    async fn recent_messages(
        &self,
        user_id: UserId,
        id: ConversationId,
        limit: u64,
    ) -> Result<Vec<ContextMessage>, RepositoryError>;

    /// In one transaction: load (owner checked) or create the conversation, set its title from
    /// this first message when it has none, insert the user message and bump `updated_at`.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when `conversation_id` is given but not the owner's.
    async fn start_turn(&self, turn: NewTurn) -> Result<StartedTurn, RepositoryError>;

    /// In one transaction: insert the assistant message, store the user message's sentiment
    /// and the conversation's sentiment state, and bump `updated_at`.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when the conversation was deleted meanwhile.
    async fn finish_turn(&self, turn: FinishedTurn) -> Result<MessageId, RepositoryError>;

    /// Deletes one conversation and (by cascade) its messages.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is not the owner's.
    async fn delete(&self, user_id: UserId, id: ConversationId) -> Result<(), RepositoryError>;

    /// Deletes all the owner's conversations and returns how many there were.
    async fn delete_all(&self, user_id: UserId) -> Result<u64, RepositoryError>;

    /// Renames a conversation and bumps its `updated_at`, returning it as renamed.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when it does not exist or is not the owner's.
    async fn rename(
        &self,
        user_id: UserId,
        id: ConversationId,
        title: Title,
    ) -> Result<Conversation, RepositoryError>;
}
