//! The events of a chat turn and their wire payloads (`docs/api.md` 3.4). The stream carries the
//! slim sentiment (score, label, emotion, and summary when non-empty); the full result is
//! what gets stored.

use lia_domain::ports::BufferedEvent;
use lia_domain::{ConversationId, FinishReason, MessageId, SentimentResult};
use serde::Serialize;

/// One event of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnEvent {
    /// The user message is stored; the turn has a stream id to re-attach with.
    Start {
        /// The conversation (new or existing).
        conversation_id: ConversationId,
        /// The stored user message.
        message_id: MessageId,
        /// The id to re-attach to or stop this turn.
        stream_id: String,
        /// The provider that actually serves the turn.
        provider: String,
        /// The model asked of it.
        model: String,
    },
    /// A fragment of the model's reasoning.
    Thought(String),
    /// A fragment of the answer.
    Chunk(String),
    /// The message's and the conversation's sentiment.
    Sentiment {
        /// The message's own result.
        message: Option<Box<SentimentResult>>,
        /// The conversation's after it.
        cumulative: Option<Box<SentimentResult>>,
    },
    /// The turn ended and is stored.
    Done(FinishReason),
    /// The turn failed; `kind` is a stable error kind.
    Error {
        /// A message fit for the user.
        message: String,
        /// e.g. `rate_limited`, `unavailable`, `invalid_request`.
        kind: String,
    },
}

#[derive(Serialize)]
struct Slim<'a> {
    score: f64,
    label: &'static str,
    emotion: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
}

fn slim(result: Option<&SentimentResult>) -> Option<Slim<'_>> {
    result.map(|r| Slim {
        score: r.score.value(),
        label: r.label.as_str(),
        emotion: r.emotion.as_deref(),
        summary: r.summary.as_deref().filter(|s| !s.is_empty()),
    })
}

impl TurnEvent {
    /// The SSE event name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start { .. } => "start",
            Self::Thought(_) => "thought",
            Self::Chunk(_) => "chunk",
            Self::Sentiment { .. } => "sentiment",
            Self::Done(_) => "done",
            Self::Error { .. } => "error",
        }
    }

    /// Whether the stream ends after this event.
    #[must_use]
    pub fn is_last(&self) -> bool {
        matches!(self, Self::Done(_) | Self::Error { .. })
    }

    /// The compact one-line JSON payload.
    #[must_use]
    pub fn data(&self) -> String {
        let value = match self {
            Self::Start {
                conversation_id,
                message_id,
                stream_id,
                provider,
                model,
            } => serde_json::to_string(
                &serde_json::json!({"conversation_id": conversation_id.to_string(), "message_id": message_id.0, "stream_id": stream_id, "provider": provider, "model": model}),
            ),
            Self::Thought(content) | Self::Chunk(content) => {
                serde_json::to_string(&Content { content })
            }
            Self::Sentiment {
                message,
                cumulative,
            } => serde_json::to_string(&SentimentPayload {
                message: slim(message.as_deref()),
                cumulative: slim(cumulative.as_deref()),
            }),
            Self::Done(reason) => {
                serde_json::to_string(&serde_json::json!({"finish_reason": reason}))
            }
            Self::Error { message, kind } => {
                serde_json::to_string(&serde_json::json!({"message": message, "kind": kind}))
            }
        };
        value.unwrap_or_else(|_| "{}".to_owned())
    }

    /// The event as buffered, with its id.
    #[must_use]
    pub fn buffered(&self, id: u64) -> BufferedEvent {
        BufferedEvent {
            id,
            event: std::borrow::Cow::Borrowed(self.name()),
            data: self.data(),
        }
    }
}

#[derive(Serialize)]
struct Content<'a> {
    content: &'a str,
}

#[derive(Serialize)]
struct SentimentPayload<'a> {
    message: Option<Slim<'a>>,
    cumulative: Option<Slim<'a>>,
}

/// One SSE frame: `id`, `event` and a single `data` line, LF only, ending with a blank line.
#[must_use]
pub fn frame(event: &BufferedEvent) -> String {
    let mut out = String::with_capacity(event.data.len() + 32);
    write_frame(&mut out, event);
    out
}

/// Appends the SSE frame of `event` to `out` (see [`frame`]).
pub fn write_frame(out: &mut String, event: &BufferedEvent) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.id, event.event, event.data
    );
}

#[cfg(test)]
mod tests {
    use lia_domain::{SentimentScore, SentimentSource};

    use super::*;

    #[test]
    fn frames_have_one_data_line_and_escaped_newlines() {
        let event = TurnEvent::Chunk("Héllo \"wörld\"\nline2".into()).buffered(3);
        assert_eq!(
            frame(&event),
            "id: 3\nevent: chunk\ndata: {\"content\":\"Héllo \\\"wörld\\\"\\nline2\"}\n\n"
        );
    }

    #[test]
    fn the_sentiment_payload_is_slim() {
        let mut full = SentimentResult::with_source(
            SentimentScore::clamped(0.55555),
            SentimentSource::LlmSeparate,
        )
        .with_emotion("happy");
        full.details.provider = Some("gemini".into());
        let mut cumulative = full.clone();
        cumulative.summary = Some("User is happy".into());
        let data = TurnEvent::Sentiment {
            message: Some(Box::new(full)),
            cumulative: Some(Box::new(cumulative)),
        }
        .data();
        assert_eq!(
            data,
            r#"{"message":{"score":0.5556,"label":"Positive","emotion":"happy"},"cumulative":{"score":0.5556,"label":"Positive","emotion":"happy","summary":"User is happy"}}"#
        );
        assert_eq!(
            TurnEvent::Done(FinishReason::Stop).data(),
            r#"{"finish_reason":"stop"}"#
        );
    }
}
