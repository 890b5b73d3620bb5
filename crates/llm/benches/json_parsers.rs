//! serde_json against simd-json where Lia parses JSON most: every streamed provider chunk
//! (an OpenAI-compatible delta and a Gemini candidate, each about 200 bytes) and a chat
//! request body (a message, settings and a short message list). The structs mirror the
//! fields the OpenAI adapter and the stream route read; simd-json parses a mutable copy in
//! place, and that copy is counted, as the adapters would have to make it (also with its
//! scratch buffers reused, its best case).
//!
//! It decided the parser (serde_json: faster on every payload here; simd-json wins only on
//! the request body, by 8%, and only with scratch buffers kept between parses): the figures
//! are in the README ("Other figures").
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
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
    reasoning_content: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiChunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    usage_metadata: Option<GeminiUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<GeminiContent>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GeminiContent {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Debug, Deserialize)]
struct Part {
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiUsage {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
}

#[derive(Debug, Deserialize)]
struct StreamRequest {
    message: Option<String>,
    messages: Option<Vec<SdkMessage>>,
    conversation_id: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    sentiment_method: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SdkMessage {
    role: String,
    content: Option<String>,
}

const OPENAI: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":" world, this is a typical token"},"finish_reason":null}]}"#;
const GEMINI: &str = r#"{"candidates":[{"content":{"parts":[{"text":" world, this is a typical token"}],"role":"model"}}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4},"modelVersion":"gemini-2.5-flash"}"#;
const REQUEST: &str = r#"{"message":"Tell me about the sea, and about \"ships\" that sail it","conversation_id":"0193a6b2-7f3e-7c1a-9d4e-2b5f8c9a1e3d","provider":"openai","model":"gpt-4o-mini","sentiment_method":"llm_separate","messages":[{"role":"user","content":"Hello there"},{"role":"assistant","content":"Hi! How can I help you today?"},{"role":"user","content":"Tell me about the sea, and about \"ships\" that sail it"}]}"#;

fn compare<T: for<'de> Deserialize<'de>>(c: &mut Criterion, name: &str, document: &str) {
    let mut group = c.benchmark_group(format!("parse_{name}"));
    group.throughput(Throughput::Bytes(document.len() as u64));
    group.bench_function("serde_json", |b| {
        b.iter(|| serde_json::from_str::<T>(document).unwrap());
    });
    group.bench_function("simd_json", |b| {
        b.iter(|| {
            let mut bytes = document.as_bytes().to_vec();
            simd_json::serde::from_slice::<T>(&mut bytes).unwrap()
        });
    });
    // Its best case: scratch buffers kept from one parse to the next, as a decoder that owns
    // them could.
    group.bench_function("simd_json_reused_buffers", |b| {
        let mut buffers = simd_json::Buffers::new(document.len());
        let mut bytes = Vec::with_capacity(document.len());
        b.iter(|| {
            bytes.clear();
            bytes.extend_from_slice(document.as_bytes());
            simd_json::serde::from_slice_with_buffers::<T>(&mut bytes, &mut buffers).unwrap()
        });
    });
    group.finish();
}

fn parsers(c: &mut Criterion) {
    // Touch every field once, so the mirrors stay what the adapters read.
    let chunk: Chunk = serde_json::from_str(OPENAI).unwrap();
    let choice = &chunk.choices[0];
    assert!(choice.delta.content.is_some() && choice.delta.reasoning_content.is_none());
    assert!(
        choice.finish_reason.is_none()
            && chunk
                .usage
                .is_none_or(|u| u.prompt_tokens + u.completion_tokens > 0)
    );
    let gemini: GeminiChunk = serde_json::from_str(GEMINI).unwrap();
    let usage = gemini.usage_metadata.unwrap();
    assert_eq!(
        (usage.prompt_token_count, usage.candidates_token_count),
        (12, 4)
    );
    let candidate = &gemini.candidates[0];
    assert!(candidate.finish_reason.is_none());
    assert!(candidate.content.as_ref().unwrap().parts[0].text.is_some());
    let request: StreamRequest = serde_json::from_str(REQUEST).unwrap();
    assert!(request.message.is_some() && request.conversation_id.is_some());
    assert!(
        request.provider.is_some() && request.model.is_some() && request.sentiment_method.is_some()
    );
    let messages = request.messages.unwrap();
    assert!(
        messages
            .iter()
            .all(|m| !m.role.is_empty() && m.content.is_some())
    );

    compare::<Chunk>(c, "openai_chunk", OPENAI);
    compare::<GeminiChunk>(c, "gemini_chunk", GEMINI);
    compare::<StreamRequest>(c, "chat_request", REQUEST);
}

criterion_group!(benches, parsers);
criterion_main!(benches);
