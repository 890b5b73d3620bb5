//! Every provider call is a span with the OpenTelemetry GenAI attributes, read here by a
//! subscriber layer that keeps each span's recorded fields.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lia_llm::testing::{Reply, Upstream, openai_delta as delta, user_request};
use lia_llm::{LlmError, collect};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::{Layer, Registry};

/// A span's name and its fields, as their `Debug` text.
type Recorded = (String, HashMap<String, String>);

/// Every span seen, by id.
#[derive(Clone, Default)]
struct Spans(Arc<Mutex<HashMap<u64, Recorded>>>);

impl Spans {
    fn named(&self, name: &str) -> Vec<HashMap<String, String>> {
        self.0
            .lock()
            .unwrap()
            .values()
            .filter(|(span, _)| span == name)
            .map(|(_, fields)| fields.clone())
            .collect()
    }
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").replace('"', ""),
        );
    }
}

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = HashMap::new();
        attributes.record(&mut Fields(&mut fields));
        let name = attributes.metadata().name().to_owned();
        self.0.lock().unwrap().insert(id.into_u64(), (name, fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        if let Some((_, fields)) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }
}

#[tokio::test]
async fn a_call_carries_the_gen_ai_attributes_with_usage_and_finish_reason() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(spans.clone()));
    let upstream = Upstream::start(vec![Reply::sse(&[
        &delta("Hello", Some("length")),
        r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        "[DONE]",
    ])])
    .await;
    let completion = upstream
        .openai_registry()
        .complete("openai", &user_request("gpt-4.1-mini", "Hi"))
        .await
        .unwrap();
    assert_eq!(completion.text, "Hello");

    let calls = spans.named("gen_ai.chat");
    assert_eq!(calls.len(), 1, "one span per call: {calls:?}");
    let call = &calls[0];
    let field = |name: &str| call.get(name).map(String::as_str);
    assert_eq!(field("gen_ai.system"), Some("openai"));
    assert_eq!(field("gen_ai.operation.name"), Some("chat"));
    assert_eq!(field("gen_ai.request.model"), Some("gpt-4.1-mini"));
    assert_eq!(field("gen_ai.request.max_tokens"), Some("2048"));
    assert_eq!(field("gen_ai.usage.input_tokens"), Some("9"));
    assert_eq!(field("gen_ai.usage.output_tokens"), Some("2"));
    assert_eq!(field("gen_ai.response.finish_reasons"), Some("length"));
    assert_eq!(field("otel.kind"), Some("client"));
    assert_eq!(field("error.type"), None);
}

#[tokio::test]
async fn a_failed_call_records_its_error_kind() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(Registry::default().with(spans.clone()));
    let upstream = Upstream::start(vec![Reply::status(401, r#"{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}"#)]).await;
    let outcome = match upstream
        .openai_registry()
        .stream("openai", &user_request("gpt-4.1-mini", "Hi"))
        .await
    {
        Ok(stream) => collect(stream).await.map(|_| ()),
        Err(error) => Err(error),
    };
    assert!(
        matches!(outcome, Err(LlmError::Unauthorized(_))),
        "{outcome:?}"
    );
    let calls = spans.named("gen_ai.chat");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].get("error.type").map(String::as_str),
        Some("unauthorized")
    );
}
