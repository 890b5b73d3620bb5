//! OpenTelemetry GenAI semantic-convention attributes on every provider call, as `tracing`
//! span fields: a subscriber that exports spans (e.g. `tracing-opentelemetry`) turns them into
//! span attributes, and a log subscriber prints them. The span opens when a stream is asked
//! for and closes when the caller drops the stream; usage and finish reason are recorded as
//! they arrive, and the error kind when the call fails.

use futures::StreamExt;
use tracing::Span;
use tracing::field::Empty;

use crate::types::{ChatRequest, ChatStream, FinishReason, StreamEvent};

/// The span of one call to `provider` for `request`.
pub(crate) fn call_span(provider: &str, request: &ChatRequest) -> Span {
    tracing::info_span!(
        "gen_ai.chat",
        otel.name = %format_args!("chat {}", request.model),
        otel.kind = "client",
        gen_ai.operation.name = "chat",
        gen_ai.system = gen_ai_system(provider),
        gen_ai.request.model = %request.model,
        gen_ai.request.temperature = f64::from(request.settings.temperature),
        gen_ai.request.top_p = f64::from(request.settings.top_p),
        gen_ai.request.max_tokens = request.settings.max_tokens,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.response.finish_reasons = Empty,
        error.type = Empty,
    )
}

/// The semantic conventions' name of a provider (`gen_ai.system`): their well-known value
/// for Gemini, the registry name otherwise (`openai` for every OpenAI-compatible server).
fn gen_ai_system(provider: &str) -> &str {
    match provider {
        "gemini" => "gcp.gemini",
        other => other,
    }
}

/// The conventions' name of a finish reason.
fn finish_reason(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(other) => other,
    }
}

/// `stream`, recording its usage, finish reason and error on `span`, which lives as long as
/// the stream. `gen_ai.response.finish_reasons` is an array in the conventions; `tracing`
/// has no array values, so the one reason a stream reports is recorded as a string.
pub(crate) fn observed(stream: ChatStream, span: Span) -> ChatStream {
    Box::pin(stream.inspect(move |event| match event {
        Ok(StreamEvent::Usage(usage)) => {
            span.record("gen_ai.usage.input_tokens", usage.prompt_tokens);
            span.record("gen_ai.usage.output_tokens", usage.completion_tokens);
        }
        Ok(StreamEvent::Finished(reason)) => {
            span.record("gen_ai.response.finish_reasons", finish_reason(reason));
        }
        Err(error) => {
            span.record("error.type", error.kind());
        }
        Ok(_) => {}
    }))
}
