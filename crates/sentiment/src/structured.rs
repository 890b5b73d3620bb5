//! The `structured` method's protocol: the chat reply itself carries the sentiment of the
//! user's message. The model answers one JSON object,
//! `{"response", "sentiment_score", "sentiment_label", "sentiment_emotion"}`; `response` is
//! streamed to the user as it arrives (lia-llm's structured output does that for any field),
//! and the other fields are read from the finished document by
//! [`StructuredSentiment::from_document`].

use std::sync::{Arc, LazyLock};

use lia_llm::{ResponseFormat, StructuredOutput};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The field of the reply that is the answer, streamed as text.
pub const RESPONSE_FIELD: &str = "response";

/// Appended to the system prompt in structured mode: the shape of the reply, in words (for
/// providers that take JSON mode but no schema).
pub const INSTRUCTIONS: &str = "Answer the user's latest message, and also rate the sentiment of \
that message (the user's, not yours). Reply with only a JSON object with exactly these keys: \
\"response\" (your answer, as Markdown text), \"sentiment_score\" (a number from -1, very \
negative, to 1, very positive), \"sentiment_label\" (\"Positive\", \"Negative\" or \
\"Neutral\"), \"sentiment_emotion\" (one to five words naming the user's emotion).";

/// The reply's JSON schema; `required` gives the order, the answer first so it streams first.
static SCHEMA: LazyLock<Arc<Value>> = LazyLock::new(|| {
    Arc::new(json!({
        "type": "object",
        "properties": {
            RESPONSE_FIELD: {"type": "string"},
            "sentiment_score": {"type": "number"},
            "sentiment_label": {"type": "string", "enum": ["Positive", "Negative", "Neutral"]},
            "sentiment_emotion": {"type": "string"}
        },
        "required": [RESPONSE_FIELD, "sentiment_score", "sentiment_label", "sentiment_emotion"]
    }))
});

/// The response format of a structured-mode chat turn: the schema above, `response` streamed.
#[must_use]
pub fn reply_format() -> ResponseFormat {
    ResponseFormat::Structured(StructuredOutput::streaming(
        Arc::clone(&SCHEMA),
        RESPONSE_FIELD,
    ))
}

/// The sentiment fields of a structured reply, as the model gave them (the score clamped to
/// [-1, 1]; a missing or unreadable score is `None`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StructuredSentiment {
    /// `sentiment_score`.
    pub score: Option<f64>,
    /// `sentiment_label`, verbatim.
    pub label: Option<String>,
    /// `sentiment_emotion`, verbatim.
    pub emotion: Option<String>,
}

impl StructuredSentiment {
    /// The sentiment fields of a finished reply `document`, read tolerantly: a score given
    /// as a string is parsed, a non-finite one is dropped, and any score is clamped.
    #[must_use]
    pub fn from_document(document: &Value) -> Self {
        let text = |key: &str| document.get(key).and_then(Value::as_str).map(str::to_owned);
        let score = document.get("sentiment_score").and_then(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        Self {
            score: score.filter(|s| s.is_finite()).map(|s| s.clamp(-1.0, 1.0)),
            label: text("sentiment_label"),
            emotion: text("sentiment_emotion"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_read_from_the_document() {
        let sentiment = StructuredSentiment::from_document(&json!({
            "response": "Hi", "sentiment_score": 0.85,
            "sentiment_label": "Positive", "sentiment_emotion": "joy"
        }));
        assert_eq!(sentiment.score, Some(0.85));
        assert_eq!(sentiment.label.as_deref(), Some("Positive"));
        assert_eq!(sentiment.emotion.as_deref(), Some("joy"));
    }

    #[test]
    fn scores_are_read_tolerantly_and_clamped() {
        let score = |value: Value| {
            StructuredSentiment::from_document(&json!({ "sentiment_score": value })).score
        };
        assert_eq!(
            score(json!("-2")),
            Some(-1.0),
            "clamped, read from a string"
        );
        assert_eq!(score(json!(3)), Some(1.0));
        assert_eq!(score(json!("high")), None);
        assert_eq!(score(json!([0.5])), None);
        assert_eq!(
            StructuredSentiment::from_document(&json!({"response": "no sentiment"})),
            StructuredSentiment::default()
        );
    }

    #[test]
    fn the_format_streams_the_answer_first() {
        let ResponseFormat::Structured(output) = reply_format() else {
            panic!("structured");
        };
        assert_eq!(output.streamed_field.as_deref(), Some(RESPONSE_FIELD));
        assert_eq!(
            output.property_order().first().map(String::as_str),
            Some(RESPONSE_FIELD)
        );
        assert_eq!(output.property_order().len(), 4);
    }
}
