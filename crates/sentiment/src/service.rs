//! The sentiment service: every method behind one call that never fails. Any error or timeout
//! in a strategy yields a neutral result whose `source` is `fallback` and whose details carry
//! the error kind; it is logged and counted, never propagated to the chat stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lia_domain::{
    CumulativeSentiment, SentimentDetails, SentimentResult, SentimentScore, SentimentSource,
};
use lia_llm::ProviderRegistry;

use crate::structured::StructuredSentiment;

use crate::config::SentimentConfig;
use crate::cumulative;
use crate::error::StrategyError;
use crate::google::GoogleNl;
use crate::lexicon::LexiconAnalyzer;
use crate::llm::{self, LlmTarget};
use crate::method::SentimentMethod;
use crate::spend::Spend;

/// Computes per-message and cumulative sentiment. Cheap to share behind an `Arc`.
pub struct SentimentService {
    lexicon: LexiconAnalyzer,
    google: Option<GoogleNl>,
    llm: Option<Arc<ProviderRegistry>>,
    google_timeout: Duration,
    llm_timeout: Duration,
    fallbacks: AtomicU64,
}

impl std::fmt::Debug for SentimentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentimentService")
            .field("google", &self.google.is_some())
            .field("llm", &self.llm.is_some())
            .field("fallbacks", &self.fallbacks)
            .finish_non_exhaustive()
    }
}

impl SentimentService {
    /// A service with `config`; `llm` enables the LLM methods.
    #[must_use]
    pub fn new(config: &SentimentConfig, llm: Option<Arc<ProviderRegistry>>) -> Self {
        let google_timeout = Duration::from_millis(config.google_timeout_ms);
        let google = (!config.google_api_key.is_empty())
            .then(|| {
                GoogleNl::new(
                    &config.google_base_url,
                    &config.google_api_key,
                    google_timeout,
                )
            })
            .and_then(|client| {
                client
                    .inspect_err(|e| tracing::warn!(error = %e, "Google NL disabled"))
                    .ok()
            });
        Self {
            lexicon: LexiconAnalyzer::new(),
            google,
            llm,
            google_timeout,
            llm_timeout: Duration::from_millis(config.llm_timeout_ms),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// The methods this configuration offers (`nlp_api` always: without a Google key it is
    /// served by the lexicon analyzer, and its results say so).
    #[must_use]
    pub fn methods(&self) -> Vec<SentimentMethod> {
        SentimentMethod::ALL
            .into_iter()
            .filter(|m| !m.uses_llm() || self.llm.is_some())
            .collect()
    }

    /// How many results so far were fallbacks (for the `sentiment_fallbacks` metric).
    #[must_use]
    pub fn fallback_count(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// The lexicon analyzer's result for `text`.
    #[must_use]
    pub fn lexicon(&self, text: &str) -> SentimentResult {
        let polarity = self.lexicon.polarity(text);
        let emotion = self.lexicon.emotion_with_polarity(text, &polarity);
        SentimentResult::with_source(
            SentimentScore::clamped(polarity.compound),
            SentimentSource::Lexicon,
        )
        .with_emotion(emotion)
    }

    /// The sentiment of one message by `method`. For `structured`, whose score comes with the
    /// reply, use [`Self::from_structured`]; asked here it is rated like `llm_separate`.
    pub async fn analyze(
        &self,
        method: SentimentMethod,
        text: &str,
        target: &LlmTarget,
    ) -> SentimentResult {
        self.analyze_metered(method, text, target, &Spend::default())
            .await
    }

    /// [`Self::analyze`], adding what an LLM call consumed to `spend`.
    pub async fn analyze_metered(
        &self,
        method: SentimentMethod,
        text: &str,
        target: &LlmTarget,
        spend: &Spend,
    ) -> SentimentResult {
        let outcome = match method {
            SentimentMethod::Lexicon => Ok(self.lexicon(text)),
            SentimentMethod::NlpApi => match &self.google {
                Some(google) => google.analyze(text, self.google_timeout).await,
                None => Ok(self.lexicon(text)),
            },
            SentimentMethod::LlmSeparate | SentimentMethod::Structured => match &self.llm {
                Some(registry) => {
                    llm::rate_message(registry, target, text, self.llm_timeout, spend).await
                }
                None => Err(StrategyError::NotConfigured("no LLM configured")),
            },
        };
        self.or_fallback(method.as_str(), outcome)
    }

    /// The sentiment a structured reply carried (`None` when the reply carried none).
    pub fn from_structured(
        &self,
        fields: Option<&StructuredSentiment>,
        target: &LlmTarget,
    ) -> SentimentResult {
        let outcome = fields
            .ok_or_else(|| StrategyError::Parse("the reply carried no sentiment".into()))
            .and_then(|fields| llm::from_structured(fields, target));
        self.or_fallback("structured", outcome)
    }

    /// The conversation's state after a message: see [`crate::cumulative`]. `message` is the
    /// message's own result, when there is one.
    pub async fn update_cumulative(
        &self,
        previous: Option<&CumulativeSentiment>,
        message: Option<&SentimentResult>,
        text: &str,
        method: SentimentMethod,
        target: &LlmTarget,
    ) -> (CumulativeSentiment, SentimentResult) {
        self.update_cumulative_metered(previous, message, text, method, target, &Spend::default())
            .await
    }

    /// [`Self::update_cumulative`], adding what an LLM call consumed to `spend`.
    pub async fn update_cumulative_metered(
        &self,
        previous: Option<&CumulativeSentiment>,
        message: Option<&SentimentResult>,
        text: &str,
        method: SentimentMethod,
        target: &LlmTarget,
        spend: &Spend,
    ) -> (CumulativeSentiment, SentimentResult) {
        let known = previous.cloned().unwrap_or_default();
        if method.uses_llm()
            && known.count > 0
            && let Some(registry) = &self.llm
        {
            match llm::update_summary(registry, target, &known, text, self.llm_timeout, spend).await
            {
                Ok(updated) => return updated,
                Err(error) => {
                    self.fallbacks.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(kind = %error.kind(), %error, "cumulative LLM update failed; using the weighted average");
                }
            }
        }
        cumulative::apply(previous, message)
    }

    fn or_fallback(
        &self,
        method: &str,
        outcome: Result<SentimentResult, StrategyError>,
    ) -> SentimentResult {
        outcome.unwrap_or_else(|error| {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(method, kind = %error.kind(), %error, "sentiment strategy failed; neutral fallback");
            let mut result = SentimentResult::with_source(SentimentScore::NEUTRAL, SentimentSource::Fallback).with_emotion("neutral");
            result.details = SentimentDetails { error: Some(error.kind()), ..SentimentDetails::default() };
            result
        })
    }
}
