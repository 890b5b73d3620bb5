#![doc = include_str!("../README.md")]

pub mod config;
pub mod conversations;
mod error;
pub mod events;
mod live;
pub mod model_choice;
pub mod prompt;
pub mod quota;
pub mod tasks;
pub mod turn;
pub mod usage;

pub use config::ChatConfig;
pub use conversations::{ConversationService, DetailEncoder, HistoryRowEncoder};
pub use error::ChatError;
pub use events::{TurnEvent, frame, write_frame};
pub use model_choice::{ModelChoice, ModelChoiceError};
pub use quota::{QuotaConfig, QuotaStatus};
pub use tasks::TaskTracker;
pub use turn::{ChatDependencies, ChatService, StartedTurn, TurnRequest};
pub use usage::UsageMeter;

// The request vocabulary the HTTP edge needs, so it depends on this crate alone.
pub use lia_llm::GenerationSettings;
pub use lia_sentiment::SentimentMethod;
