//! Sentiment settings.

use serde::{Deserialize, Serialize};

/// Where the strategies reach and how long they may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SentimentConfig {
    /// Google Cloud Natural Language API key; empty means `nlp_api` uses the lexicon analyzer.
    pub google_api_key: lia_llm::ApiKey,
    /// The Natural Language API root.
    pub google_base_url: String,
    /// Time limit of a Natural Language call.
    pub google_timeout_ms: u64,
    /// Time limit of an LLM sentiment call (per message or cumulative): short, because the
    /// chat waits for it before its final events.
    pub llm_timeout_ms: u64,
}

impl Default for SentimentConfig {
    fn default() -> Self {
        Self {
            google_api_key: lia_llm::ApiKey::default(),
            google_base_url: "https://language.googleapis.com".into(),
            google_timeout_ms: 5_000,
            llm_timeout_ms: 10_000,
        }
    }
}
