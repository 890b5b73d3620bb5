//! Persistence ports for users and conversations. Every conversation operation is scoped to
//! its owner: another user's conversation is reported as [`RepositoryError::NotFound`], so
//! its existence is never revealed.

use async_trait::async_trait;

use crate::conversation::{Conversation, ConversationPage, ConversationSummary};
use crate::error::RepositoryError;
use crate::ids::{ConversationId, MessageId, UserId};
use crate::message::{ContextMessage, ModelInfo, TokenUsage};
use crate::paging::{HistoryPage, MessageWindow};
use crate::sentiment::{CumulativeSentiment, SentimentResult};
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

/// The durable record of a turn while it generates: enough to recover it (store what it
/// produced, or continue it) if its instance dies.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTurn {
    /// The turn's stream id (its key).
    pub stream_id: String,
    /// The owner.
    pub user_id: UserId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user message it answers.
    pub user_message_id: MessageId,
    /// The provider serving it.
    pub provider: String,
    /// The model asked for.
    pub model: String,
    /// The rest of the request (settings, sentiment method) as JSON text, for a
    /// continuation.
    pub request: String,
    /// When it started.
    pub started_at: time::OffsetDateTime,
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
    /// How many of the messages before this one to return as context.
    pub context_limit: u64,
    /// The durable record of the turn (its conversation and message ids are filled in).
    pub stream_id: String,
    /// The provider serving the turn.
    pub provider: String,
    /// The model asked for.
    pub model: String,
    /// The rest of the request as JSON text, kept for a continuation.
    pub request: String,
}

/// What [`ConversationRepository::start_turn`] stored.
#[derive(Debug, Clone)]
pub struct StartedTurn {
    /// The conversation, after the turn's changes (title, `updated_at`), with the
    /// sentiment state as stored when the message was.
    pub conversation: Conversation,
    /// Whether it was created by this turn.
    pub created: bool,
    /// The id of the stored user message.
    pub user_message_id: MessageId,
    /// The stream id the turn was recorded under.
    pub stream_id: String,
    /// The conversation as it stood when the user message was stored: up to
    /// `context_limit` messages ordered before it, oldest first (not including it).
    pub context: Vec<ContextMessage>,
}

/// The reply a turn stores.
#[derive(Debug, Clone)]
pub struct StoredReply {
    /// The text (possibly partial; `model_info.finish_reason` says so).
    pub text: String,
    /// How it was produced.
    pub model_info: ModelInfo,
}

/// Computes the conversation's cumulative sentiment from the state stored at the moment the
/// turn ends (read inside the finishing transaction, so no concurrent update is lost); it
/// returns the new state and the cumulative result shown to the user.
pub type Cumulate = std::sync::Arc<
    dyn Fn(Option<&CumulativeSentiment>) -> (CumulativeSentiment, SentimentResult) + Send + Sync,
>;

/// The end of a chat turn: the reply (if any) and the sentiment computed for it.
#[derive(Clone)]
pub struct FinishedTurn {
    /// The owner.
    pub user_id: UserId,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The user message this turn answered.
    pub user_message_id: MessageId,
    /// The turn's stream id: finishing deletes its durable record, and a turn whose record
    /// is gone (finished or recovered elsewhere) is not stored again.
    pub stream_id: String,
    /// The reply; `None` when the provider failed before any text.
    pub reply: Option<StoredReply>,
    /// The user message's own sentiment, if computed; stored with the cumulative result.
    pub message_sentiment: Option<SentimentResult>,
    /// The cumulative update; not applied when there is no message sentiment.
    pub cumulate: Cumulate,
    /// The UTC day the reply's usage is counted on (in the usage ledger).
    pub usage_day: time::Date,
    /// Other LLM calls the turn made (LLM sentiment), charged to the ledger with the reply.
    pub other_usage: Vec<UsageCharge>,
}

/// Tokens one LLM call consumed, to charge to the usage ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCharge {
    /// The provider that answered.
    pub provider: String,
    /// The model asked of it.
    pub model: String,
    /// What it consumed.
    pub usage: TokenUsage,
}

impl std::fmt::Debug for FinishedTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FinishedTurn")
            .field("conversation_id", &self.conversation_id)
            .field("stream_id", &self.stream_id)
            .finish_non_exhaustive()
    }
}

/// What [`ConversationRepository::finish_turn`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum FinishOutcome {
    /// Stored in one transaction with the turn's record deleted.
    Stored {
        /// The assistant message, when there was a reply.
        reply_id: Option<MessageId>,
        /// The cumulative result stored with the user message, when there was a message
        /// sentiment.
        cumulative: Option<SentimentResult>,
    },
    /// The turn's record was already gone: another instance recovered it, or it was
    /// finished before; nothing was stored.
    AlreadyFinished,
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

    /// In one transaction: load (owner checked) or create the conversation, read the context
    /// (the messages ordered before the new one), set the title from this first message when
    /// it has none, insert the user message, bump `updated_at` and record the active turn.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when `conversation_id` is given but not the owner's;
    /// [`RepositoryError::UserGone`] when the owner no longer exists.
    async fn start_turn(&self, turn: NewTurn) -> Result<StartedTurn, RepositoryError>;

    /// In one transaction: delete the turn's record (which claims it), insert the reply,
    /// store the user message's sentiment with the cumulative update applied to the state
    /// stored now, and bump `updated_at`. Safe to call again after a failure: a turn is
    /// stored once.
    ///
    /// # Errors
    /// [`RepositoryError::NotFound`] when the conversation was deleted meanwhile.
    async fn finish_turn(&self, turn: FinishedTurn) -> Result<FinishOutcome, RepositoryError>;

    /// Every turn recorded as active (for recovery after a crash), oldest first.
    async fn active_turns(&self) -> Result<Vec<ActiveTurn>, RepositoryError>;

    /// The record of one active turn, if it is still active.
    async fn active_turn(&self, stream_id: &str) -> Result<Option<ActiveTurn>, RepositoryError>;

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
