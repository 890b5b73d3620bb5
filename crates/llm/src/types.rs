//! The provider-neutral vocabulary: chat requests, generation settings and stream events.

use std::pin::Pin;

use futures_core::Stream;
use serde::{Deserialize, Serialize};

use crate::error::LlmError;

/// Who wrote a message sent to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions for the model.
    System,
    /// The person.
    User,
    /// The model's earlier replies.
    Assistant,
}

/// One message of the prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Its author.
    pub role: ChatRole,
    /// Its text.
    pub content: String,
}

impl ChatMessage {
    /// A message with `role` and `content`.
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// Sampling settings, validated to the ranges providers accept.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationSettings {
    /// 0..=2.
    pub temperature: f32,
    /// 1..=32000.
    pub max_tokens: u32,
    /// 0..=1.
    pub top_p: f32,
    /// -2..=2.
    pub frequency_penalty: f32,
    /// -2..=2.
    pub presence_penalty: f32,
}

impl Default for GenerationSettings {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            max_tokens: 2048,
            top_p: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
        }
    }
}

impl GenerationSettings {
    /// Checks every field against its range; the error names the first field out of range.
    ///
    /// # Errors
    /// [`LlmError::InvalidRequest`] naming the field and its range.
    pub fn validate(&self) -> Result<(), LlmError> {
        let check = |name: &str, value: f32, low: f32, high: f32| {
            if value.is_finite() && (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(LlmError::InvalidRequest(format!(
                    "{name} must be between {low} and {high}"
                )))
            }
        };
        check("temperature", self.temperature, 0.0, 2.0)?;
        check("top_p", self.top_p, 0.0, 1.0)?;
        check("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        check("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        if !(1..=32_000).contains(&self.max_tokens) {
            return Err(LlmError::InvalidRequest(
                "max_tokens must be between 1 and 32000".into(),
            ));
        }
        Ok(())
    }
}

/// The shape a reply must take.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ResponseFormat {
    /// Free text.
    #[default]
    Text,
    /// One JSON object, shaped as the prompt describes (the provider's JSON mode), answered
    /// as text: the caller parses it.
    Json,
    /// One JSON object following a schema, one of its string fields optionally streamed as
    /// text (see [`crate::structured`]); the parsed object comes as
    /// [`StreamEvent::Document`].
    Structured(crate::structured::StructuredOutput),
}

impl ResponseFormat {
    /// Whether the reply is a JSON object (JSON mode or structured).
    #[must_use]
    pub fn is_json(&self) -> bool {
        !matches!(self, Self::Text)
    }
}

/// What a provider is asked to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The model id, passed to the provider as given.
    pub model: String,
    /// The prompt, oldest first; a system message, if any, comes first.
    pub messages: Vec<ChatMessage>,
    /// Sampling settings.
    pub settings: GenerationSettings,
    /// The shape of the reply.
    pub format: ResponseFormat,
}

impl ChatRequest {
    /// A free-text request with default settings.
    pub fn new(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            settings: GenerationSettings::default(),
            format: ResponseFormat::Text,
        }
    }
}

/// Token accounting reported by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated, reasoning included.
    pub completion_tokens: u32,
    /// Of those, reasoning tokens, when the provider reports them separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The model finished.
    Stop,
    /// The token limit was reached.
    Length,
    /// The provider filtered the output.
    ContentFilter,
    /// Anything else the provider reported, verbatim.
    Other(String),
}

/// One event of a streamed generation.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The next fragment of the answer.
    Text(String),
    /// A fragment of reasoning the provider marks as thought.
    Thought(String),
    /// Token usage (usually once, near the end).
    Usage(Usage),
    /// The end of generation.
    Finished(FinishReason),
    /// Structured output only: the whole reply parsed, once, after the last text.
    Document(serde_json::Value),
}

/// A stream of generation events; an `Err` ends it.
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, LlmError>> + Send>>;

/// A whole (non-streamed) generation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Completion {
    /// The answer.
    pub text: String,
    /// Reasoning fragments, in order.
    pub thoughts: Vec<String>,
    /// Token usage, if reported.
    pub usage: Option<Usage>,
    /// Why it stopped, if reported.
    pub finish_reason: Option<FinishReason>,
    /// Structured output only: the reply parsed as JSON, when it was.
    pub document: Option<serde_json::Value>,
}

/// A model a provider advertises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDescriptor {
    /// The id to request it by.
    pub id: String,
    /// A display name.
    pub name: String,
    /// Its context window in tokens.
    pub context_window: u64,
}

impl ModelDescriptor {
    /// A descriptor.
    pub fn new(id: &str, name: &str, context_window: u64) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            context_window,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_ranges_match_the_api() {
        assert!(GenerationSettings::default().validate().is_ok());
        let bad = |s: GenerationSettings| s.validate().unwrap_err().to_string();
        let base = GenerationSettings::default();
        assert!(
            bad(GenerationSettings {
                temperature: 2.1,
                ..base
            })
            .contains("temperature")
        );
        assert!(
            bad(GenerationSettings {
                top_p: -0.1,
                ..base
            })
            .contains("top_p")
        );
        assert!(
            bad(GenerationSettings {
                max_tokens: 0,
                ..base
            })
            .contains("max_tokens")
        );
        assert!(
            bad(GenerationSettings {
                presence_penalty: f32::NAN,
                ..base
            })
            .contains("presence_penalty")
        );
        assert!(
            GenerationSettings {
                max_tokens: 32_000,
                frequency_penalty: -2.0,
                ..base
            }
            .validate()
            .is_ok()
        );
    }
}
