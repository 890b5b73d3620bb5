//! OpenAI and every server that speaks its chat-completions API (Ollama, vLLM, llama.cpp
//! server, OpenRouter ...), through async-openai with a configurable base URL, key and model
//! list. The request is sent as JSON we build (async-openai's "bring your own types" mode), so
//! servers' extensions such as `reasoning_content` deltas are read as thoughts, and unknown
//! finish reasons do not break parsing. async-openai's own retries are replaced by a transport
//! that only reports the status, body and `Retry-After` of a failed response: retrying is the
//! job of [`crate::Reliable`], once, for every provider.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{LlmError, parse_retry_after};
use crate::provider::LlmProvider;
use crate::providers::http::{client, transport_error};
use crate::types::{
    ChatRequest, ChatRole, ChatStream, FinishReason, ModelDescriptor, StreamEvent, Usage,
};

/// OpenAI's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// OpenAI-compatible settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpenAiConfig {
    /// The bearer key (may be empty for local servers).
    pub api_key: crate::ApiKey,
    /// The API root including `/v1`, e.g. `http://localhost:11434/v1` for Ollama.
    pub base_url: String,
    /// The models advertised in the catalogue.
    pub models: Vec<ModelDescriptor>,
    /// Send the token limit as `max_completion_tokens` (OpenAI's current name) instead of
    /// `max_tokens` (what most compatible servers read). Defaults to true only for OpenAI.
    pub max_completion_tokens: Option<bool>,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            api_key: crate::ApiKey::default(),
            base_url: DEFAULT_BASE_URL.into(),
            models: default_models(),
            max_completion_tokens: None,
        }
    }
}

impl OpenAiConfig {
    /// Whether there is something to talk to: a key, or a compatible server of one's own
    /// (which may need none).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        !self.api_key.is_empty() || self.base_url != DEFAULT_BASE_URL
    }
}

/// The reference service's OpenAI catalogue.
#[must_use]
pub fn default_models() -> Vec<ModelDescriptor> {
    vec![
        ModelDescriptor::new("gpt-4o", "GPT-4o", 128_000),
        ModelDescriptor::new("gpt-4o-mini", "GPT-4o Mini", 128_000),
        ModelDescriptor::new("gpt-4.1", "GPT 4.1", 128_000),
    ]
}

/// The OpenAI-compatible adapter.
#[derive(Clone)]
pub struct OpenAiProvider {
    client: Client<OpenAIConfig>,
    config: OpenAiConfig,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

impl OpenAiProvider {
    /// An adapter over `config`, connecting within `connect_timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(config: OpenAiConfig, connect_timeout: Duration) -> Result<Self, LlmError> {
        let http = client(connect_timeout)?;
        let api = OpenAIConfig::new()
            .with_api_key(config.api_key.expose())
            .with_api_base(config.base_url.trim_end_matches('/'));
        // `build`, not `with_config`: that one first builds a default reqwest client, which
        // needs a process-wide TLS provider.
        let client = Client::build(http.clone(), api).with_http_service(FailureReporting { http });
        Ok(Self { client, config })
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    ChatRole::System => "system",
                    ChatRole::User => "user",
                    ChatRole::Assistant => "assistant",
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let settings = &request.settings;
        let use_completion_tokens = self
            .config
            .max_completion_tokens
            .unwrap_or(self.config.base_url.trim_end_matches('/') == DEFAULT_BASE_URL);
        let token_field = if use_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "frequency_penalty": settings.frequency_penalty,
            "presence_penalty": settings.presence_penalty,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        body[token_field] = json!(settings.max_tokens);
        if request.format.is_json() {
            body["response_format"] = json!({"type": "json_object"});
        }
        body
    }
}

#[async_trait]
impl LlmProvider for OpenAiProvider {
    fn name(&self) -> &str {
        "openai"
    }

    fn models(&self) -> &[ModelDescriptor] {
        &self.config.models
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, LlmError> {
        let stream = self
            .client
            .chat()
            .create_stream_byot::<Value, Chunk>(self.body(request))
            .await
            .map_err(|e| error_from(&e))?;
        let events = stream.flat_map(|item| {
            let events = match item {
                Ok(chunk) => chunk.into_events().into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error_from(&error))],
            };
            futures::stream::iter(events)
        });
        Ok(Box::pin(events))
    }
}

/// The events in one streamed `data:` payload. Public so the per-chunk cost can be
/// benchmarked; the adapter itself receives chunks already decoded by async-openai.
///
/// # Errors
/// [`LlmError::Protocol`] for a payload that is not a chunk.
pub fn events_from_chunk(data: &str) -> Result<Vec<StreamEvent>, LlmError> {
    serde_json::from_str::<Chunk>(data)
        .map(Chunk::into_events)
        .map_err(|e| LlmError::Protocol(format!("unreadable chunk: {e}")))
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<UsageBody>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    content: Option<String>,
    /// DeepSeek, vLLM and llama.cpp name reasoning deltas this way.
    reasoning_content: Option<String>,
    /// OpenRouter's name for the same.
    reasoning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UsageBody {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u32>,
}

impl Chunk {
    fn into_events(self) -> Vec<StreamEvent> {
        let mut events = Vec::new();
        for choice in self.choices {
            let thought = choice.delta.reasoning_content.or(choice.delta.reasoning);
            if let Some(thought) = thought.filter(|t| !t.is_empty()) {
                events.push(StreamEvent::Thought(thought));
            }
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                events.push(StreamEvent::Text(text));
            }
            if let Some(reason) = choice.finish_reason {
                events.push(StreamEvent::Finished(match reason.as_str() {
                    "stop" => FinishReason::Stop,
                    "length" => FinishReason::Length,
                    "content_filter" => FinishReason::ContentFilter,
                    other => FinishReason::Other(other.to_owned()),
                }));
            }
        }
        if let Some(usage) = self.usage {
            events.push(StreamEvent::Usage(Usage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                reasoning_tokens: usage
                    .completion_tokens_details
                    .and_then(|details| details.reasoning_tokens),
            }));
        }
        events
    }
}

/// A non-2xx response, as the transport saw it.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status}")]
struct HttpFailure {
    status: u16,
    retry_after: Option<Duration>,
    body: String,
}

/// Executes requests once and turns a failed response into [`HttpFailure`], keeping the
/// status and `Retry-After` that async-openai's own error type drops.
#[derive(Clone)]
struct FailureReporting {
    http: reqwest::Client,
}

impl tower::Service<HttpRequestFactory> for FailureReporting {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: HttpRequestFactory) -> Self::Future {
        let http = self.http.clone();
        Box::pin(async move {
            let request = request.build().await?;
            let response = http.execute(request).await.map_err(OpenAIError::Reqwest)?;
            if response.status().is_success() {
                return Ok(response);
            }
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let body = response.text().await.unwrap_or_default();
            Err(OpenAIError::Boxed(Box::new(HttpFailure {
                status,
                retry_after,
                body,
            })))
        })
    }
}

/// OpenAI's `{"error": {...}}` body.
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<Value>,
}

impl ErrorBody {
    fn into_error(self, status: u16, retry_after: Option<Duration>) -> LlmError {
        let code = match self.code {
            Some(Value::String(code)) => Some(code),
            _ => self.kind,
        };
        if code.as_deref() == Some("insufficient_quota") {
            // A billing problem, not a passing overload: retrying cannot help.
            return LlmError::Unauthorized(self.message);
        }
        LlmError::from_status(status, code.as_deref(), &self.message, retry_after)
    }
}

fn error_from(error: &OpenAIError) -> LlmError {
    match error {
        OpenAIError::Boxed(inner) => match inner.downcast_ref::<HttpFailure>() {
            Some(failure) => match serde_json::from_str::<ErrorEnvelope>(&failure.body) {
                Ok(envelope) => envelope
                    .error
                    .into_error(failure.status, failure.retry_after),
                Err(_) => LlmError::from_status(
                    failure.status,
                    None,
                    failure.body.trim(),
                    failure.retry_after,
                ),
            },
            None => LlmError::Unavailable(inner.to_string()),
        },
        OpenAIError::Reqwest(error) => transport_error(error),
        OpenAIError::ApiError(response) => LlmError::from_status(
            response.status_code.as_u16(),
            response
                .api_error
                .code
                .as_deref()
                .or(response.api_error.r#type.as_deref()),
            &response.api_error.message,
            None,
        ),
        OpenAIError::StreamError(error) => {
            LlmError::Unavailable(format!("stream interrupted: {error}"))
        }
        OpenAIError::JSONDeserialize(_, raw) => match serde_json::from_str::<ErrorEnvelope>(raw) {
            // An error reported inside the stream.
            Ok(envelope) => envelope.error.into_error(500, None),
            Err(parse) => LlmError::Protocol(format!("unreadable chunk: {parse}")),
        },
        OpenAIError::InvalidArgument(message) => LlmError::InvalidRequest(message.clone()),
        other => LlmError::Protocol(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_become_events_with_thoughts_and_unknown_finish_reasons() {
        let chunk: Chunk = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":"think","content":"Hi"},"finish_reason":"eos"}]}"#,
        )
        .unwrap();
        assert_eq!(
            chunk.into_events(),
            [
                StreamEvent::Thought("think".into()),
                StreamEvent::Text("Hi".into()),
                StreamEvent::Finished(FinishReason::Other("eos".into()))
            ]
        );
    }

    #[test]
    fn error_bodies_keep_their_kind() {
        let failure = |status, body: &str| {
            error_from(&OpenAIError::Boxed(Box::new(HttpFailure {
                status,
                retry_after: Some(Duration::from_secs(3)),
                body: body.into(),
            })))
        };
        assert_eq!(
            failure(
                429,
                r#"{"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}"#
            ),
            LlmError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert!(matches!(
            failure(
                429,
                r#"{"error":{"message":"pay","type":"insufficient_quota","code":"insufficient_quota"}}"#
            ),
            LlmError::Unauthorized(_)
        ));
        assert!(matches!(
            failure(
                404,
                r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#
            ),
            LlmError::ModelNotFound(_)
        ));
        assert!(matches!(
            failure(503, "upstream overloaded"),
            LlmError::Unavailable(_)
        ));
    }
}
