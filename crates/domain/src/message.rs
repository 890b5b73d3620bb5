//! Chat messages and what is stored alongside them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{ConversationId, MessageId};
use crate::sentiment::SentimentResult;

/// Who wrote a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person chatting.
    User,
    /// The model's reply.
    Assistant,
}

impl Role {
    /// The wire and column value: `user` or `assistant`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    /// Parses a stored role; anything but `user` and `assistant` is `None`.
    #[must_use]
    pub fn parse(input: &str) -> Option<Self> {
        match input {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

/// Why a generation ended; stored in `model_info.finish_reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished its answer.
    Stop,
    /// The model hit its token limit.
    Length,
    /// The user stopped the generation.
    Stopped,
    /// The provider failed; the content is what arrived before.
    Error,
    /// The server shut down mid-generation.
    Interrupted,
}

/// Sentiment stored on a user message: its own result and the conversation's after it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MessageSentiment {
    /// This message's own sentiment.
    #[serde(default)]
    pub message: Option<SentimentResult>,
    /// The conversation's cumulative sentiment including this message.
    #[serde(default)]
    pub cumulative: Option<SentimentResult>,
}

/// How an assistant message was produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The provider name, e.g. `gemini`.
    pub provider: String,
    /// The model id as requested.
    pub model: String,
    /// Reasoning fragments, in order; null when there were none.
    #[serde(default)]
    pub thoughts: Option<Vec<String>>,
    /// Why the generation ended (absent on rows written by the reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// `provider:model` that was asked for, when another one answered (an unconfigured
    /// provider served offline, or a fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_from: Option<String>,
    /// What the turn consumed; absent on rows written before usage was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<TokenUsage>,
}

/// Where a [`TokenUsage`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageSource {
    /// Reported by the provider with the stream's last chunk.
    Provider,
    /// Estimated from the text (the stream ended before the provider reported, or the
    /// provider reports none).
    Estimated,
}

impl UsageSource {
    /// The label used on the wire and in metrics.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Estimated => "estimated",
        }
    }
}

/// Tokens one assistant reply consumed, prompt included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens sent: system prompt, context and the user's message.
    pub prompt_tokens: u32,
    /// Tokens generated, reasoning included.
    pub completion_tokens: u32,
    /// Of those, reasoning tokens, when the provider reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
    /// Reported or estimated.
    pub source: UsageSource,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its id; messages are totally ordered by (`created_at`, `id`).
    pub id: MessageId,
    /// The conversation it belongs to.
    pub conversation_id: ConversationId,
    /// Its author.
    pub role: Role,
    /// Its text.
    pub content: String,
    /// User messages only, filled in when the turn completes.
    pub sentiment_data: Option<MessageSentiment>,
    /// Assistant messages only.
    pub model_info: Option<ModelInfo>,
    /// When it was stored.
    pub created_at: OffsetDateTime,
}

/// A message as sent back to a model as context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextMessage {
    /// Its author.
    pub role: Role,
    /// Its text (thoughts are never sent back).
    pub content: String,
}
