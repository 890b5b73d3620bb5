//! Metrics, in a `prometheus-client` registry owned by the app state (no global recorder, so
//! several apps in one process never mix their numbers): the HTTP request series this crate's
//! middleware records, plus whatever the server's other parts report through collectors
//! registered with [`Metrics::with_collector`]. `/metrics` encodes the registry in the
//! Prometheus text format (0.0.4).

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The methods that get a series of their own; any other (a client may invent methods
/// without limit) counts as `other`, so the number of series stays bounded.
const KNOWN_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// `method` as a metric label: itself when known, `other` otherwise.
#[must_use]
pub fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// The labels of `lia_http_requests_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: Arc<str>,
    method: &'static str,
    status: u16,
}

/// The label of the per-route series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: Arc<str>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The registry and the HTTP series.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Route labels seen so far, so recording a request on a known route allocates nothing.
    /// Routes are the app's patterns (or `unmatched`): a bounded set.
    routes: RwLock<HashSet<Arc<str>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry holding only the HTTP series.
    #[must_use]
    pub fn new() -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<RouteLabels, Counter>::default();
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let mut registry = Registry::default();
        registry.register(
            "lia_http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "lia_http_errors",
            "HTTP responses with a 5xx status, by route",
            errors.clone(),
        );
        registry.register(
            "lia_http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            errors,
            latency,
            routes: RwLock::default(),
        }
    }

    /// Adds a source of further metrics (cache, LLM, chat, database), asked on every scrape.
    #[must_use]
    pub fn with_collector(mut self, collector: Box<dyn Collector>) -> Self {
        self.registry.register_collector(collector);
        self
    }

    /// Records one finished request; `route` is the matched pattern (e.g.
    /// `/api/v1/chat/conversation/{id}`), or `unmatched`; `method` is labelled by
    /// [`method_label`].
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let route = RouteLabels {
            route: self.route_label(route),
        };
        self.requests
            .get_or_create(&RequestLabels {
                route: Arc::clone(&route.route),
                method: method_label(method),
                status,
            })
            .inc();
        if status >= 500 {
            self.errors.get_or_create(&route).inc();
        }
        self.latency
            .get_or_create(&route)
            .observe(elapsed.as_secs_f64());
    }

    /// The shared label for `route`, allocated the first time it is seen.
    fn route_label(&self, route: &str) -> Arc<str> {
        if let Ok(known) = self.routes.read()
            && let Some(label) = known.get(route)
        {
            return Arc::clone(label);
        }
        let Ok(mut known) = self.routes.write() else {
            return Arc::from(route);
        };
        // Another request may have added it between the two locks.
        if let Some(label) = known.get(route) {
            return Arc::clone(label);
        }
        let label: Arc<str> = Arc::from(route);
        known.insert(Arc::clone(&label));
        label
    }

    /// The Prometheus text of every registered metric.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::warn!(%error, "metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
    use prometheus_client::metrics::counter::ConstCounter;

    use super::*;

    #[test]
    fn renders_counters_errors_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.record("/health", "GET", 200, Duration::from_millis(3));
        metrics.record("/health", "GET", 503, Duration::from_millis(30));
        let text = metrics.render();
        assert!(text.contains(
            "lia_http_requests_total{route=\"/health\",method=\"GET\",status=\"200\"} 1"
        ));
        assert!(text.contains("lia_http_errors_total{route=\"/health\"} 1"));
        assert!(text.contains(
            "lia_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.005\"} 1"
        ));
        assert!(
            text.contains(
                "lia_http_request_duration_seconds_bucket{route=\"/health\",le=\"0.05\"} 2"
            )
        );
        assert!(text.contains("lia_http_request_duration_seconds_count{route=\"/health\"} 2"));
        assert!(text.contains("# TYPE lia_http_requests_total counter"));
        assert!(text.contains("# HELP lia_http_errors_total HTTP responses with a 5xx status"));
    }

    #[test]
    fn invented_methods_share_one_series() {
        let metrics = Metrics::default();
        for n in 0..500 {
            metrics.record("unmatched", &format!("BREW{n}"), 405, Duration::ZERO);
        }
        metrics.record("unmatched", "PATCH", 405, Duration::ZERO);
        let text = metrics.render();
        assert!(text.contains(
            "lia_http_requests_total{route=\"unmatched\",method=\"other\",status=\"405\"} 500"
        ));
        assert!(text.contains("method=\"PATCH\""));
        assert!(!text.contains("BREW"));
        assert_eq!(text.matches("lia_http_requests_total{").count(), 2);
    }

    #[test]
    fn a_route_label_is_allocated_once() {
        let metrics = Metrics::default();
        let first = metrics.route_label("/health");
        let second = metrics.route_label("/health");
        assert!(Arc::ptr_eq(&first, &second));
    }

    #[derive(Debug)]
    struct Turns(u64);

    impl Collector for Turns {
        fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
            let counter = ConstCounter::new(self.0);
            let metric = encoder.encode_descriptor(
                "lia_test_turns",
                "Turns.",
                None,
                counter.metric_type(),
            )?;
            counter.encode(metric)
        }
    }

    #[test]
    fn collectors_are_asked_on_every_scrape() {
        let metrics = Metrics::new().with_collector(Box::new(Turns(7)));
        assert!(metrics.render().contains("lia_test_turns_total 7"));
    }
}
