//! `local`: a built-in offline provider that needs no network and no key, so a fresh
//! checkout can chat. Replies come from a small ELIZA-style engine, deterministic, streamed
//! word by word at a configurable pace. Asked for structured output it answers with a
//! document shaped by the request's schema: the streamed field holds the ELIZA reply, every
//! other property is a small word lexicon's rating of the last user message, chosen by the
//! property's type (see [`structured_reply`]). Asked for plain JSON (a rating prompt), it
//! answers `{"score", "label", "emotion", "summary"}` with that rating. It has no tokenizer,
//! so it reports no usage: callers estimate it ([`crate::estimate`]).

mod eliza;
mod eliza_rules;
mod mood;

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::LlmError;
use crate::provider::LlmProvider;
use crate::structured::StructuredOutput;
use crate::types::{
    ChatRequest, ChatRole, ChatStream, FinishReason, ModelDescriptor, ResponseFormat, StreamEvent,
};

/// Settings of the offline provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalConfig {
    /// Pause between streamed words, in milliseconds (0 streams as fast as possible).
    pub pace_ms: u64,
    /// The models advertised in the catalogue (any model id is accepted).
    pub models: Vec<ModelDescriptor>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            pace_ms: 25,
            models: vec![ModelDescriptor::new(
                "lia-local",
                "Lia offline (ELIZA)",
                8_192,
            )],
        }
    }
}

/// The offline provider.
#[derive(Debug, Clone, Default)]
pub struct LocalProvider {
    config: LocalConfig,
}

impl LocalProvider {
    /// A provider with `config`.
    #[must_use]
    pub fn new(config: LocalConfig) -> Self {
        Self { config }
    }

    /// The whole reply `request` gets, before streaming.
    fn reply(request: &ChatRequest) -> String {
        let mut history = Vec::new();
        let mut input = "";
        for message in &request.messages {
            match message.role {
                ChatRole::System => {}
                ChatRole::User | ChatRole::Assistant => {
                    history.push(eliza::Turn {
                        from_user: message.role == ChatRole::User,
                        text: &message.content,
                    });
                }
            }
        }
        // Everything before the last user message is history.
        if let Some(position) = history.iter().rposition(|turn| turn.from_user) {
            input = history.get(position).map_or("", |turn| turn.text);
            history.truncate(position);
        }
        match &request.format {
            ResponseFormat::Text => eliza::respond(&history, input),
            ResponseFormat::Structured(output) => structured_reply(
                output,
                &eliza::respond(&history, input),
                &mood::assess(input),
            ),
            // A JSON-mode request is a rating prompt (e.g. a sentiment analysis): answer it
            // with the lexicon's rating of the text it quotes, the last user message.
            ResponseFormat::Json => {
                let mood = mood::assess(input);
                serde_json::json!({"score": mood.score, "label": mood.label, "emotion": mood.emotion, "summary": mood.summary()})
                    .to_string()
            }
        }
    }
}

#[async_trait]
impl LlmProvider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn models(&self) -> &[ModelDescriptor] {
        &self.config.models
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, LlmError> {
        let reply = Self::reply(request);
        let pieces = split_keeping_spaces(&reply);
        let pace = Duration::from_millis(self.config.pace_ms);
        let words = futures::stream::iter(pieces.into_iter().enumerate()).then(
            move |(index, piece)| async move {
                if index > 0 && !pace.is_zero() {
                    tokio::time::sleep(pace).await;
                }
                Ok(StreamEvent::Text(piece))
            },
        );
        let tail = futures::stream::iter([Ok(StreamEvent::Finished(FinishReason::Stop))]);
        Ok(Box::pin(futures::StreamExt::chain(words, tail)))
    }
}

use futures::StreamExt as _;

/// A JSON object shaped by `output`'s schema, its properties in reply order: the streamed
/// field is `reply`; any other property rates the last user message by its type: a number is
/// the valence (-1..1), an integer its rounding, a string with `enum` the choice equal to the
/// label ignoring case (else the first choice), any other string the emotion, a boolean
/// whether the valence is positive, anything else `null`.
fn structured_reply(output: &StructuredOutput, reply: &str, mood: &mood::Mood) -> String {
    let properties = output.schema.get("properties");
    let mut object = String::from("{");
    for (index, name) in output.property_order().iter().enumerate() {
        let schema = properties.and_then(|all| all.get(name));
        let value = if output.streamed_field.as_deref() == Some(name.as_str()) {
            serde_json::Value::from(reply)
        } else {
            rated_value(schema, mood)
        };
        if index > 0 {
            object.push_str(", ");
        }
        object.push_str(&serde_json::Value::from(name.as_str()).to_string());
        object.push_str(": ");
        object.push_str(&value.to_string());
    }
    object.push('}');
    object
}

/// The value of a property with `schema` rated from `mood` (see [`structured_reply`]).
fn rated_value(schema: Option<&serde_json::Value>, mood: &mood::Mood) -> serde_json::Value {
    let kind = schema
        .and_then(|s| s.get("type"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_ascii_lowercase);
    match kind.as_deref() {
        Some("number") => mood.score.into(),
        Some("integer") => serde_json::Value::from(mood.score.round()),
        Some("boolean") => (mood.score > 0.0).into(),
        Some("string") => {
            let choices = schema
                .and_then(|s| s.get("enum"))
                .and_then(serde_json::Value::as_array);
            match choices {
                Some(choices) => choices
                    .iter()
                    .find(|c| {
                        c.as_str()
                            .is_some_and(|c| c.eq_ignore_ascii_case(mood.label))
                    })
                    .or_else(|| choices.first())
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
                None => mood.emotion.into(),
            }
        }
        _ => serde_json::Value::Null,
    }
}

/// `text` split after each run of whitespace, so concatenating the pieces gives it back.
fn split_keeping_spaces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if in_space && !c.is_whitespace() {
            pieces.push(std::mem::take(&mut current));
        }
        in_space = c.is_whitespace();
        current.push(c);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::collect;
    use crate::types::ChatMessage;

    fn request(text: &str, structured: bool) -> ChatRequest {
        ChatRequest {
            format: if structured {
                let schema = serde_json::json!({
                    "type": "object",
                    "properties": {
                        "sentiment_label": {"type": "string", "enum": ["Positive", "Negative", "Neutral"]},
                        "response": {"type": "string"},
                        "sentiment_score": {"type": "number"},
                        "sentiment_emotion": {"type": "string"},
                        "flagged": {"type": "boolean"},
                    },
                    "required": ["response", "sentiment_score", "sentiment_label", "sentiment_emotion"],
                });
                ResponseFormat::Structured(StructuredOutput::streaming(schema.into(), "response"))
            } else {
                ResponseFormat::Text
            },
            ..ChatRequest::new(
                "anything",
                vec![
                    ChatMessage::new(ChatRole::System, "sys"),
                    ChatMessage::new(ChatRole::User, text),
                ],
            )
        }
    }

    #[tokio::test]
    async fn streams_a_deterministic_reply_word_by_word() {
        let provider = LocalProvider::new(LocalConfig {
            pace_ms: 0,
            ..LocalConfig::default()
        });
        let first = collect(
            provider
                .stream(&request("I feel happy about my garden", false))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let second = collect(
            provider
                .stream(&request("I feel happy about my garden", false))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(first, second);
        assert!(!first.text.is_empty());
        assert_eq!(first.finish_reason, Some(FinishReason::Stop));
        let mut stream = provider
            .stream(&request("I feel happy about my garden", false))
            .await
            .unwrap();
        let mut n_text = 0;
        while let Some(Ok(event)) = stream.next().await {
            if matches!(event, StreamEvent::Text(_)) {
                n_text += 1;
            }
        }
        assert_eq!(n_text, first.text.split_whitespace().count());
    }

    #[tokio::test]
    async fn structured_mode_answers_with_the_json_document() {
        let provider = LocalProvider::new(LocalConfig {
            pace_ms: 0,
            ..LocalConfig::default()
        });
        let completion = collect(
            provider
                .stream(&request("I love this, it is wonderful!", true))
                .await
                .unwrap(),
        )
        .await
        .unwrap();
        let document: serde_json::Value = serde_json::from_str(&completion.text).unwrap();
        assert!(document["response"].as_str().is_some_and(|r| !r.is_empty()));
        assert!(document["sentiment_score"].as_f64().unwrap() > 0.1);
        assert_eq!(document["sentiment_label"], "Positive");
        assert_eq!(document["sentiment_emotion"], "love");
        assert_eq!(document["flagged"], true);
        assert!(
            completion.text.starts_with(r#"{"response": "#),
            "the required properties come first, in order: {}",
            completion.text
        );
    }

    #[test]
    fn splitting_keeps_every_character() {
        for text in ["", "one", "two  words ", " lead\nand\ttabs", "émoji 🎉 ok"] {
            assert_eq!(split_keeping_spaces(text).concat(), text);
        }
    }
}
