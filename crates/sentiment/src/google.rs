//! Google Cloud Natural Language `documents:analyzeSentiment` over REST.

use std::time::Duration;

use lia_domain::{SentimentDetails, SentimentResult, SentimentScore, SentimentSource};
use serde::Deserialize;
use serde_json::json;

use crate::error::StrategyError;

/// The service name recorded in result details.
pub(crate) const SERVICE: &str = "Google Cloud Natural Language API";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    document_sentiment: Option<DocumentSentiment>,
}

#[derive(Debug, Deserialize)]
struct DocumentSentiment {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    magnitude: f64,
}

/// A keyed client for the Natural Language API.
#[derive(Debug, Clone)]
pub(crate) struct GoogleNl {
    http: reqwest::Client,
    url: String,
    api_key: lia_llm::ApiKey,
}

impl GoogleNl {
    pub(crate) fn new(
        base_url: &str,
        api_key: &lia_llm::ApiKey,
        timeout: Duration,
    ) -> Result<Self, StrategyError> {
        let http = lia_llm::providers::http::client(timeout)
            .map_err(|e| StrategyError::Unavailable(e.to_string()))?;
        let url = format!(
            "{}/v1/documents:analyzeSentiment",
            base_url.trim_end_matches('/')
        );
        Ok(Self {
            http,
            url,
            api_key: api_key.clone(),
        })
    }

    /// The document sentiment of `text`.
    pub(crate) async fn analyze(
        &self,
        text: &str,
        timeout: Duration,
    ) -> Result<SentimentResult, StrategyError> {
        let body =
            json!({"document": {"type": "PLAIN_TEXT", "content": text}, "encodingType": "UTF8"});
        let call = async {
            let response = self
                .http
                .post(&self.url)
                .header("x-goog-api-key", self.api_key.expose())
                .json(&body)
                .send()
                .await
                .map_err(|e| StrategyError::Unavailable(e.to_string()))?;
            let status = response.status();
            if !status.is_success() {
                return Err(StrategyError::Unavailable(format!(
                    "HTTP {}",
                    status.as_u16()
                )));
            }
            response
                .json::<Response>()
                .await
                .map_err(|e| StrategyError::Parse(e.to_string()))
        };
        let response = tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| StrategyError::Timeout)??;
        let sentiment = response
            .document_sentiment
            .ok_or_else(|| StrategyError::Parse("no documentSentiment".into()))?;
        let mut result = SentimentResult::with_source(
            SentimentScore::clamped(sentiment.score),
            SentimentSource::NlpApi,
        );
        result.details = SentimentDetails {
            magnitude: Some(sentiment.magnitude),
            service: Some(SERVICE.to_owned()),
            ..SentimentDetails::default()
        };
        Ok(result)
    }
}
