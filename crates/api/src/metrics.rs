//! Request metrics, kept by this crate's middleware in a registry owned by the app state (no
//! global recorder, so several apps in one process never mix their numbers), and the
//! Prometheus text endpoint, which appends what the server's other parts report through
//! [`MetricsSource`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Tables {
    /// Route, then (method, status). Keyed by route first so that recording a request on a
    /// route already seen allocates nothing.
    requests: BTreeMap<String, BTreeMap<(&'static str, u16), u64>>,
    latency: BTreeMap<String, Histogram>,
}

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

/// The entry for `route` in `map` (always `Some`), allocating its key only the first time.
fn entry_for<'m, V: Default>(map: &'m mut BTreeMap<String, V>, route: &str) -> Option<&'m mut V> {
    if !map.contains_key(route) {
        map.insert(route.to_owned(), V::default());
    }
    map.get_mut(route)
}

/// Requests by route, method and status, and latency by route.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    tables: Mutex<Tables>,
}

impl HttpMetrics {
    /// Records one finished request; `route` is the matched pattern (e.g.
    /// `/api/v1/chat/conversation/{id}`), or `unmatched`; `method` is labelled by
    /// [`method_label`].
    pub fn record(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let Ok(mut tables) = self.tables.lock() else {
            return;
        };
        if let Some(by_method) = entry_for(&mut tables.requests, route) {
            *by_method.entry((method_label(method), status)).or_insert(0) += 1;
        }
        let Some(histogram) = entry_for(&mut tables.latency, route) else {
            return;
        };
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The Prometheus text of these metrics.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(tables) = self.tables.lock() else {
            return out;
        };
        out.push_str("# HELP lia_http_requests_total HTTP requests by route, method and status.\n# TYPE lia_http_requests_total counter\n");
        for (route, by_method) in &tables.requests {
            for ((method, status), count) in by_method {
                let _ = writeln!(
                    out,
                    "lia_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {count}"
                );
            }
        }
        out.push_str("# HELP lia_http_errors_total HTTP responses with a 5xx status, by route.\n# TYPE lia_http_errors_total counter\n");
        let mut errors: BTreeMap<&str, u64> = BTreeMap::new();
        for (route, by_method) in &tables.requests {
            for ((_, status), count) in by_method {
                if *status >= 500 {
                    *errors.entry(route).or_insert(0) += count;
                }
            }
        }
        for (route, count) in errors {
            let _ = writeln!(out, "lia_http_errors_total{{route=\"{route}\"}} {count}");
        }
        out.push_str("# HELP lia_http_request_duration_seconds HTTP request latency by route.\n# TYPE lia_http_request_duration_seconds histogram\n");
        for (route, histogram) in &tables.latency {
            for (bound, count) in BUCKETS.iter().zip(histogram.buckets) {
                let _ = writeln!(
                    out,
                    "lia_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "lia_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "lia_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "lia_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
        out
    }
}

/// Anything else that reports metrics (cache, LLM, chat, database pool): the server composes
/// them and the `/metrics` route appends their text.
pub trait MetricsSource: Send + Sync + 'static {
    /// Prometheus text lines, with `# HELP` and `# TYPE` headers.
    fn render(&self) -> String;
}

/// Writes one `# HELP`/`# TYPE` header and the samples of a metric.
pub fn write_metric(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: &[(String, f64)],
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_errors_and_cumulative_buckets() {
        let metrics = HttpMetrics::default();
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
    }

    #[test]
    fn invented_methods_share_one_series() {
        let metrics = HttpMetrics::default();
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
}
