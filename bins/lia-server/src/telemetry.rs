//! Logging and tracing. Logs are human-readable by default, JSON lines by configuration; the
//! filter comes from `RUST_LOG` when set, else from the configured level. When
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, spans are
//! also exported over OTLP/HTTP (protobuf) in batches, the service named by
//! `OTEL_SERVICE_NAME` (default `lia-server`): the standard variables, read by the
//! OpenTelemetry SDK itself. Provider calls carry the GenAI attributes lia-llm records.

use std::collections::HashMap;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::settings::AppSettings;

/// The variables that turn trace export on.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
];

/// What [`init`] installed that must be flushed before the process exits.
#[derive(Debug, Default)]
#[must_use = "call shutdown before exit, or the last batch of spans is lost"]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    #[must_use]
    pub fn exports_traces(&self) -> bool {
        self.traces.is_some()
    }

    /// Exports the spans still buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Some(traces) = self.traces
            && let Err(error) = traces.shutdown()
        {
            eprintln!("lia-server: trace export did not shut down cleanly: {error}");
        }
    }
}

/// Installs the global subscriber (once; later calls install nothing) and, when `env` asks
/// for it, the OTLP trace exporter. An exporter that cannot be built is reported and left
/// out: tracing is never a reason not to serve.
pub fn init(settings: &AppSettings, env: &HashMap<String, String>) -> Telemetry {
    let (subscriber, telemetry) = subscriber(settings, env);
    // An error only means a subscriber is already installed (tests start several apps).
    let _ = subscriber.try_init();
    telemetry
}

/// The subscriber [`init`] installs, and the exporter to flush at exit.
fn subscriber(
    settings: &AppSettings,
    env: &HashMap<String, String>,
) -> (impl tracing::Subscriber + Send + Sync + 'static, Telemetry) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let traces = if ENDPOINT_VARIABLES
        .iter()
        .any(|name| env.get(*name).is_some_and(|value| !value.is_empty()))
    {
        match otlp_provider(env) {
            Ok(provider) => Some(provider),
            Err(error) => {
                eprintln!("lia-server: OTLP trace export is off: {error}");
                None
            }
        }
    } else {
        None
    };
    let export = traces.as_ref().map(trace_layer);
    let logs = tracing_subscriber::fmt::layer().with_target(true);
    let logs = if settings.log_json {
        logs.json().boxed()
    } else {
        logs.boxed()
    };
    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(export);
    (subscriber, Telemetry { traces })
}

/// The OTLP/HTTP exporter in a batch processor; endpoint, headers, timeout and protocol come
/// from the standard `OTEL_EXPORTER_OTLP_*` variables.
fn otlp_provider(
    env: &HashMap<String, String>,
) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let mut resource = Resource::builder();
    if !env.contains_key("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("lia-server");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The layer that turns `tracing` spans into OpenTelemetry spans of `provider`.
fn trace_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + use<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("lia-server"))
}

#[cfg(test)]
mod tests {
    use lia_llm::testing::{Reply, Upstream, openai_delta, user_request};
    use opentelemetry::trace::SpanKind;
    use opentelemetry_sdk::trace::InMemorySpanExporter;

    use super::*;

    async fn one_call() -> String {
        let upstream = Upstream::start(vec![Reply::sse(&[
            &openai_delta("Hello", Some("stop")),
            r#"{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
            "[DONE]",
        ])])
        .await;
        upstream
            .openai_registry()
            .complete("openai", &user_request("gpt-4.1-mini", "Hi"))
            .await
            .unwrap()
            .text
    }

    #[test]
    fn a_provider_call_is_exported_with_the_gen_ai_attributes() {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let subscriber = tracing_subscriber::registry().with(trace_layer(&provider));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let text = tracing::subscriber::with_default(subscriber, || runtime.block_on(one_call()));
        assert_eq!(text, "Hello");

        let spans = exporter.get_finished_spans().unwrap();
        let call = spans
            .iter()
            .find(|span| span.name == "chat gpt-4.1-mini")
            .unwrap_or_else(|| panic!("no provider call among {spans:?}"));
        assert_eq!(call.span_kind, SpanKind::Client);
        let attribute = |key: &str| {
            call.attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(attribute("gen_ai.system").as_deref(), Some("openai"));
        assert_eq!(
            attribute("gen_ai.request.model").as_deref(),
            Some("gpt-4.1-mini")
        );
        assert_eq!(attribute("gen_ai.usage.input_tokens").as_deref(), Some("9"));
        assert_eq!(
            attribute("gen_ai.usage.output_tokens").as_deref(),
            Some("2")
        );
        assert_eq!(
            attribute("gen_ai.response.finish_reasons").as_deref(),
            Some("stop")
        );
    }

    #[test]
    fn export_is_on_exactly_when_an_endpoint_is_set() {
        // As in main: the process's TLS provider first, which the exporter's client uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = AppSettings::default();
        let (_, telemetry) = subscriber(&settings, &HashMap::new());
        assert!(!telemetry.exports_traces());
        for variable in ENDPOINT_VARIABLES {
            let env = HashMap::from([(variable.to_owned(), "http://127.0.0.1:9".to_owned())]);
            let (_, telemetry) = subscriber(&settings, &env);
            assert!(telemetry.exports_traces(), "{variable}");
            telemetry.shutdown();
        }
    }
}
