#![doc = include_str!("../README.md")]

pub mod clock;
pub mod conversation;
pub mod error;
pub mod ids;
pub mod message;
pub mod paging;
pub mod ports;
pub mod secret;
pub mod sentiment;
pub mod shared;
pub mod urls;
pub mod user;
pub mod values;

pub use conversation::{Conversation, ConversationPage, ConversationSummary};
pub use error::{BoxError, RepositoryError, ValidationError};
pub use ids::{ConversationId, MessageId, UserId};
pub use message::{
    ContextMessage, FinishReason, Message, MessageSentiment, ModelInfo, Role, TokenUsage,
    UsageSource,
};
pub use paging::{HistoryPage, MessageAnchor, MessageWindow};
pub use ports::{ConversationRepository, UserRepository};
pub use secret::{Secret, SecretUrl};
pub use sentiment::{
    CumulativeSentiment, SentimentDetails, SentimentLabel, SentimentResult, SentimentScore,
    SentimentSource,
};
pub use shared::Shared;
pub use user::{NewUser, PasswordHash, User, UserCredentials};
pub use values::{Email, MessageText, Password, Title, Username};
