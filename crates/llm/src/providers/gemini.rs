//! Google Gemini through its native REST API: `streamGenerateContent?alt=sse` for streams and
//! `generateContent` for whole replies. The system prompt goes in `systemInstruction`,
//! `assistant` turns are sent as `model`, and parts marked `thought` become thought events.

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{LlmError, parse_retry_after};
use crate::provider::LlmProvider;
use crate::providers::http::{client, transport_error};
use crate::sse;
use crate::types::{
    ChatRequest, ChatRole, ChatStream, Completion, FinishReason, ModelDescriptor, ResponseFormat,
    StreamEvent, Usage,
};

/// Gemini settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeminiConfig {
    /// The API key, sent as the `x-goog-api-key` header.
    pub api_key: crate::ApiKey,
    /// The API root, without the version path.
    pub base_url: String,
    /// The models advertised in the catalogue.
    pub models: Vec<ModelDescriptor>,
}

impl Default for GeminiConfig {
    fn default() -> Self {
        Self {
            api_key: crate::ApiKey::default(),
            base_url: "https://generativelanguage.googleapis.com".into(),
            models: default_models(),
        }
    }
}

impl GeminiConfig {
    /// Whether a key is set (Gemini needs one).
    #[must_use]
    pub fn is_configured(&self) -> bool {
        !self.api_key.is_empty()
    }
}

/// The reference service's Gemini catalogue.
#[must_use]
pub fn default_models() -> Vec<ModelDescriptor> {
    vec![
        ModelDescriptor::new("gemini-2.5-flash", "Gemini 2.5 Flash", 1_000_000),
        ModelDescriptor::new("gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", 1_000_000),
        ModelDescriptor::new("gemini-2.5-pro", "Gemini 2.5 Pro", 2_000_000),
    ]
}

/// The Gemini adapter.
#[derive(Debug, Clone)]
pub struct GeminiProvider {
    http: reqwest::Client,
    config: GeminiConfig,
}

impl GeminiProvider {
    /// An adapter over `config`, connecting within `connect_timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        config: GeminiConfig,
        connect_timeout: std::time::Duration,
    ) -> Result<Self, LlmError> {
        Ok(Self {
            http: client(connect_timeout)?,
            config,
        })
    }

    async fn post(
        &self,
        request: &ChatRequest,
        method: &str,
    ) -> Result<reqwest::Response, LlmError> {
        let base = self.config.base_url.trim_end_matches('/');
        let alt = if method == "streamGenerateContent" {
            "?alt=sse"
        } else {
            ""
        };
        let model = crate::model_name::path_segment(&request.model);
        let url = format!("{base}/v1beta/models/{model}:{method}{alt}");
        let response = self
            .http
            .post(url)
            .header("x-goog-api-key", self.config.api_key.expose())
            .json(&request_body(request))
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(error_from_response(response).await)
    }
}

#[async_trait]
impl LlmProvider for GeminiProvider {
    fn name(&self) -> &str {
        "gemini"
    }

    fn models(&self) -> &[ModelDescriptor] {
        &self.config.models
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, LlmError> {
        let response = self.post(request, "streamGenerateContent").await?;
        let events = sse::events(response.bytes_stream()).flat_map(|event| {
            let items = match event {
                Ok(event) => events_from_chunk(&event.data),
                Err(error) => vec![Err(error)],
            };
            futures::stream::iter(items)
        });
        Ok(Box::pin(events))
    }

    async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let response = self.post(request, "generateContent").await?;
        let body = response.text().await.map_err(|e| transport_error(&e))?;
        let mut completion = Completion::default();
        for event in events_from_chunk(&body) {
            match event? {
                StreamEvent::Text(text) => completion.text.push_str(&text),
                StreamEvent::Thought(thought) => completion.thoughts.push(thought),
                StreamEvent::Usage(usage) => completion.usage = Some(usage),
                StreamEvent::Finished(reason) => completion.finish_reason = Some(reason),
                StreamEvent::Document(_) => {}
            }
        }
        Ok(completion)
    }
}

/// The `generateContent` body for `request`.
fn request_body(request: &ChatRequest) -> Value {
    let mut system = Vec::new();
    let mut contents = Vec::new();
    for message in &request.messages {
        match message.role {
            ChatRole::System => system.push(json!({"text": message.content})),
            ChatRole::User => {
                contents.push(json!({"role": "user", "parts": [{"text": message.content}]}))
            }
            ChatRole::Assistant => {
                contents.push(json!({"role": "model", "parts": [{"text": message.content}]}))
            }
        }
    }
    let settings = &request.settings;
    let mut generation = json!({
        "temperature": settings.temperature,
        "maxOutputTokens": settings.max_tokens,
        "topP": settings.top_p,
    });
    // Gemini 2.5 refuses penalties on some models; send them only when asked for.
    if settings.frequency_penalty != 0.0 {
        generation["frequencyPenalty"] = json!(settings.frequency_penalty);
    }
    if settings.presence_penalty != 0.0 {
        generation["presencePenalty"] = json!(settings.presence_penalty);
    }
    match &request.format {
        ResponseFormat::Structured(output) => {
            generation["responseMimeType"] = json!("application/json");
            generation["responseSchema"] = gemini_schema(&output.schema);
        }
        // A short JSON answer: no thinking, which could use up the token budget.
        ResponseFormat::Json => {
            generation["responseMimeType"] = json!("application/json");
            generation["thinkingConfig"] = json!({"thinkingBudget": 0});
        }
        ResponseFormat::Text => {
            generation["thinkingConfig"] = json!({"includeThoughts": true, "thinkingBudget": -1});
        }
    }
    let mut body = json!({"contents": contents, "generationConfig": generation});
    if !system.is_empty() {
        body["systemInstruction"] = json!({"parts": system});
    }
    body
}

/// `schema` (JSON Schema) in the form of Gemini's `responseSchema`: type names upper-cased,
/// and every object's `propertyOrdering` set to its `required` properties first (Gemini
/// otherwise orders properties alphabetically, which would stream a field late).
fn gemini_schema(schema: &Value) -> Value {
    let Value::Object(fields) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::with_capacity(fields.len() + 1);
    for (key, value) in fields {
        let translated = match (key.as_str(), value) {
            ("type", Value::String(name)) => Value::String(name.to_ascii_uppercase()),
            ("properties", Value::Object(properties)) => Value::Object(
                properties
                    .iter()
                    .map(|(name, property)| (name.clone(), gemini_schema(property)))
                    .collect(),
            ),
            ("items", items) => gemini_schema(items),
            _ => value.clone(),
        };
        out.insert(key.clone(), translated);
    }
    if fields.contains_key("properties") && !fields.contains_key("propertyOrdering") {
        out.insert(
            "propertyOrdering".into(),
            json!(crate::structured::property_order(schema)),
        );
    }
    Value::Object(out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<UsageMetadata>,
    error: Option<ErrorBody>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
struct Part {
    text: Option<String>,
    #[serde(default)]
    thought: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    thoughts_token_count: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: u16,
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

impl ErrorBody {
    fn into_error(self, http_status: u16, retry_after: Option<std::time::Duration>) -> LlmError {
        let retry_after = retry_after.or_else(|| {
            self.details.iter().find_map(|detail| {
                detail
                    .get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(|d| parse_retry_after(d.trim_end_matches('s')))
            })
        });
        let status = if self.code != 0 {
            self.code
        } else {
            http_status
        };
        LlmError::from_status(status, Some(&self.status), &self.message, retry_after)
    }
}

/// The events in one streamed chunk (or a whole `generateContent` body). Public so the
/// per-chunk cost can be benchmarked.
pub fn events_from_chunk(data: &str) -> Vec<Result<StreamEvent, LlmError>> {
    let chunk: Chunk = match serde_json::from_str(data) {
        Ok(chunk) => chunk,
        Err(error) => {
            return vec![Err(LlmError::Protocol(format!(
                "unreadable Gemini chunk: {error}"
            )))];
        }
    };
    if let Some(error) = chunk.error {
        return vec![Err(error.into_error(500, None))];
    }
    let mut events = Vec::new();
    for candidate in chunk.candidates {
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            match part.text {
                Some(text) if !text.is_empty() && part.thought => {
                    events.push(Ok(StreamEvent::Thought(text)))
                }
                Some(text) if !text.is_empty() => events.push(Ok(StreamEvent::Text(text))),
                _ => {}
            }
        }
        if let Some(usage) = &chunk.usage_metadata
            && candidate.finish_reason.is_some()
        {
            {
                events.push(Ok(StreamEvent::Usage(Usage {
                    prompt_tokens: usage.prompt_token_count,
                    completion_tokens: usage
                        .candidates_token_count
                        .saturating_add(usage.thoughts_token_count.unwrap_or(0)),
                    reasoning_tokens: usage.thoughts_token_count,
                })));
            }
        }
        if let Some(reason) = candidate.finish_reason {
            events.push(Ok(StreamEvent::Finished(match reason.as_str() {
                "STOP" => FinishReason::Stop,
                "MAX_TOKENS" => FinishReason::Length,
                "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
                    FinishReason::ContentFilter
                }
                other => FinishReason::Other(other.to_owned()),
            })));
        }
    }
    events
}

async fn error_from_response(response: reqwest::Response) -> LlmError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let body = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorEnvelope>(&body) {
        Ok(envelope) => envelope.error.into_error(status, retry_after),
        Err(_) => LlmError::from_status(status, None, body.trim(), retry_after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChatMessage, GenerationSettings};

    #[test]
    fn the_body_uses_system_instruction_and_model_role() {
        let request = ChatRequest {
            model: "gemini-2.5-flash".into(),
            messages: vec![
                ChatMessage::new(ChatRole::System, "be nice"),
                ChatMessage::new(ChatRole::User, "hi"),
                ChatMessage::new(ChatRole::Assistant, "hello"),
            ],
            settings: GenerationSettings {
                presence_penalty: 0.5,
                ..GenerationSettings::default()
            },
            format: ResponseFormat::Text,
        };
        let body = request_body(&request);
        assert_eq!(body["systemInstruction"]["parts"][0]["text"], "be nice");
        assert_eq!(body["contents"][1]["role"], "model");
        assert_eq!(body["generationConfig"]["presencePenalty"], 0.5);
        assert!(body["generationConfig"].get("frequencyPenalty").is_none());
        assert_eq!(
            body["generationConfig"]["thinkingConfig"]["includeThoughts"],
            true
        );
    }

    #[test]
    fn a_json_schema_becomes_gemini_s_response_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}},
                "answer": {"type": "string"},
                "score": {"type": "number"},
            },
            "required": ["score", "answer"],
        });
        let output = crate::structured::StructuredOutput::streaming(schema.into(), "answer");
        let request = ChatRequest {
            format: ResponseFormat::Structured(output),
            ..ChatRequest::new(
                "gemini-2.5-flash",
                vec![ChatMessage::new(ChatRole::User, "hi")],
            )
        };
        let generation = &request_body(&request)["generationConfig"];
        assert_eq!(generation["responseMimeType"], "application/json");
        let translated = &generation["responseSchema"];
        assert_eq!(translated["type"], "OBJECT");
        assert_eq!(translated["properties"]["tags"]["type"], "ARRAY");
        assert_eq!(translated["properties"]["tags"]["items"]["type"], "STRING");
        assert_eq!(
            translated["propertyOrdering"],
            json!(["score", "answer", "tags"])
        );
        assert_eq!(translated["required"], json!(["score", "answer"]));
        assert!(generation.get("thinkingConfig").is_none());
    }

    #[test]
    fn chunks_separate_thoughts_text_usage_and_finish() {
        let data = r#"{"candidates":[{"content":{"parts":[{"text":"hmm","thought":true},{"text":"Hi"}],"role":"model"},"finishReason":"MAX_TOKENS"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2,"thoughtsTokenCount":1}}"#;
        let events: Vec<_> = events_from_chunk(data)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            events,
            [
                StreamEvent::Thought("hmm".into()),
                StreamEvent::Text("Hi".into()),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 3,
                    reasoning_tokens: Some(1),
                }),
                StreamEvent::Finished(FinishReason::Length),
            ]
        );
        assert!(matches!(
            events_from_chunk("{not json").as_slice(),
            [Err(LlmError::Protocol(_))]
        ));
    }
}
