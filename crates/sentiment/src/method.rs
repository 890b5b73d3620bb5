//! The per-message sentiment methods, by the names the frontend sends.

use std::fmt;
use std::str::FromStr;

/// How a message's sentiment is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SentimentMethod {
    /// Google Cloud Natural Language when a key is configured, else the lexicon analyzer.
    NlpApi,
    /// One dedicated JSON-mode call to the chat's LLM.
    LlmSeparate,
    /// The score arrives with the chat reply itself (structured mode).
    Structured,
    /// The built-in VADER lexicon analyzer.
    Lexicon,
}

impl SentimentMethod {
    /// Every method, in the order they are listed.
    pub const ALL: [Self; 4] = [
        Self::NlpApi,
        Self::LlmSeparate,
        Self::Structured,
        Self::Lexicon,
    ];

    /// The wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NlpApi => "nlp_api",
            Self::LlmSeparate => "llm_separate",
            Self::Structured => "structured",
            Self::Lexicon => "lexicon",
        }
    }

    /// Whether this method asks an LLM, so the cumulative summary is an LLM update too.
    #[must_use]
    pub fn uses_llm(self) -> bool {
        matches!(self, Self::LlmSeparate | Self::Structured)
    }
}

/// The name is not a known method.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sentiment method {0:?}")]
pub struct UnknownMethod(pub String);

impl FromStr for SentimentMethod {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMethod(s.to_owned()))
    }
}

impl fmt::Display for SentimentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
