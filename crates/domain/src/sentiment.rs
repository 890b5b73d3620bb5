//! Sentiment values: a score in [-1, 1], its label, and the cumulative state of a conversation.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A sentiment score, always finite and within [-1, 1]; stored and sent rounded to 4 places.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct SentimentScore(f64);

impl SentimentScore {
    /// The neutral score, 0.
    pub const NEUTRAL: Self = Self(0.0);

    /// `value` clamped into [-1, 1] and rounded to 4 decimal places; NaN becomes 0.
    #[must_use]
    pub fn clamped(value: f64) -> Self {
        if value.is_nan() {
            return Self::NEUTRAL;
        }
        let clamped = value.clamp(-1.0, 1.0);
        Self((clamped * 10_000.0).round() / 10_000.0)
    }

    /// The score as a float.
    #[must_use]
    pub fn value(self) -> f64 {
        self.0
    }

    /// The label this score implies (see [`SentimentLabel::from_score`]).
    #[must_use]
    pub fn label(self) -> SentimentLabel {
        SentimentLabel::from_score(self)
    }
}

impl Serialize for SentimentScore {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for SentimentScore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        f64::deserialize(deserializer).map(Self::clamped)
    }
}

/// The three labels the frontend colours by. Exactly these strings go on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub enum SentimentLabel {
    /// Score above 0.1.
    Positive,
    /// Score below -0.1.
    Negative,
    /// Score within [-0.1, 0.1].
    #[default]
    Neutral,
}

impl SentimentLabel {
    /// Positive above 0.1, Negative below -0.1, Neutral otherwise (exactly ±0.1 is Neutral).
    #[must_use]
    pub fn from_score(score: SentimentScore) -> Self {
        if score.value() > 0.1 {
            Self::Positive
        } else if score.value() < -0.1 {
            Self::Negative
        } else {
            Self::Neutral
        }
    }

    /// Reads a label written by an LLM or by the reference service, case-insensitively.
    /// Anything unrecognised yields `None`, so the caller can derive the label from the score.
    #[must_use]
    pub fn parse_lenient(input: &str) -> Option<Self> {
        match input.trim().to_ascii_lowercase().as_str() {
            "positive" => Some(Self::Positive),
            "negative" => Some(Self::Negative),
            "neutral" | "mixed" => Some(Self::Neutral),
            _ => None,
        }
    }

    /// The wire string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "Positive",
            Self::Negative => "Negative",
            Self::Neutral => "Neutral",
        }
    }
}

impl<'de> Deserialize<'de> for SentimentLabel {
    /// Tolerant on purpose: rows written by the reference carry unnormalised LLM labels.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(Self::parse_lenient(&raw).unwrap_or_default())
    }
}

impl fmt::Display for SentimentLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which strategy produced a result. Serialised as the reference's strings, plus the
/// `lexicon` analyzer and `fallback` for a strategy that failed and degraded to neutral.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentSource {
    /// Google Cloud Natural Language.
    NlpApi,
    /// A dedicated LLM call.
    LlmSeparate,
    /// Returned with the chat reply itself.
    Structured,
    /// The built-in lexicon analyzer.
    Lexicon,
    /// The neutral default.
    Default,
    /// Any strategy that failed; the details say why.
    Fallback,
    /// The cumulative state updated by an LLM (or the first-message rule).
    Incremental,
    /// The cumulative state updated by the weighted average.
    IncrementalFallback,
    /// The cumulative state kept as it was, with its count increased.
    IncrementalUnchanged,
    /// A source this version does not know, read from stored data.
    #[serde(other)]
    Unknown,
}

/// Where a result came from, for diagnosis; every field is optional and omitted when empty.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SentimentDetails {
    /// The LLM provider consulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The LLM model consulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The error kind of a failed strategy (never a raw message with user data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Google's magnitude: the strength of emotion regardless of sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnitude: Option<f64>,
    /// The external service consulted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl SentimentDetails {
    /// True when no field is set, so the key can be left out of stored JSON.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One sentiment result, in its full (persisted) form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentimentResult {
    /// The score in [-1, 1].
    pub score: SentimentScore,
    /// The label, always one of the three.
    pub label: SentimentLabel,
    /// A short emotion word or phrase, e.g. `joy`; null when the strategy gives none.
    #[serde(default)]
    pub emotion: Option<String>,
    /// The strategy that produced it.
    #[serde(default = "unknown_source")]
    pub source: SentimentSource,
    /// The cumulative summary, when this is a cumulative result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Diagnosis details.
    #[serde(default, skip_serializing_if = "SentimentDetails::is_empty")]
    pub details: SentimentDetails,
}

fn unknown_source() -> SentimentSource {
    SentimentSource::Unknown
}

impl SentimentResult {
    /// The neutral default: score 0, Neutral, emotion `neutral`, source `default`.
    #[must_use]
    pub fn neutral_default() -> Self {
        Self::with_source(SentimentScore::NEUTRAL, SentimentSource::Default).with_emotion("neutral")
    }

    /// A result with `score`, the label derived from it, and no emotion or details.
    #[must_use]
    pub fn with_source(score: SentimentScore, source: SentimentSource) -> Self {
        Self {
            score,
            label: score.label(),
            emotion: None,
            source,
            summary: None,
            details: SentimentDetails::default(),
        }
    }

    /// The same result with `emotion` set.
    #[must_use]
    pub fn with_emotion(mut self, emotion: impl Into<String>) -> Self {
        self.emotion = Some(emotion.into());
        self
    }
}

/// The rolling sentiment of a whole conversation, stored in `conversations.sentiment_state`.
/// A missing state is the default: empty summary, score 0, count 0, Neutral.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CumulativeSentiment {
    /// A short summary of how the user feels (at most 100 characters when an LLM writes it).
    #[serde(default)]
    pub summary: String,
    /// The cumulative score.
    #[serde(default)]
    pub score: SentimentScore,
    /// How many user messages have been taken into account.
    #[serde(default)]
    pub count: u32,
    /// The cumulative label.
    #[serde(default)]
    pub label: SentimentLabel,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn labels_follow_the_documented_thresholds() {
        let label = |v: f64| SentimentScore::clamped(v).label();
        assert_eq!(label(0.1), SentimentLabel::Neutral);
        assert_eq!(label(-0.1), SentimentLabel::Neutral);
        assert_eq!(label(0.1001), SentimentLabel::Positive);
        assert_eq!(label(-0.1001), SentimentLabel::Negative);
        assert_eq!(label(0.0), SentimentLabel::Neutral);
    }

    #[test]
    fn stored_labels_are_read_leniently() {
        let label: SentimentLabel = serde_json_free_parse("\"POSITIVE\"");
        assert_eq!(label, SentimentLabel::Positive);
        let label: SentimentLabel = serde_json_free_parse("\"ecstatic\"");
        assert_eq!(label, SentimentLabel::Neutral);
    }

    /// Deserialises a JSON string literal without pulling serde_json into the domain crate.
    fn serde_json_free_parse(literal: &str) -> SentimentLabel {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        let inner = literal.trim_matches('"');
        let deserializer: StrDeserializer<'_, Error> = inner.into_deserializer();
        SentimentLabel::deserialize(deserializer).unwrap()
    }

    proptest! {
        #[test]
        fn scores_are_always_in_range(value in proptest::num::f64::ANY) {
            let score = SentimentScore::clamped(value).value();
            prop_assert!((-1.0..=1.0).contains(&score));
        }
    }
}
