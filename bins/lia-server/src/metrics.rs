//! The server's own metrics collector: everything `/metrics` shows beyond HTTP requests, read
//! from the services' counters on each scrape and encoded by prometheus-client.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use lia_cache::{CacheKind, CacheStats};
use lia_chat::ChatService;
use lia_llm::{AttemptObserver, LlmError};
use lia_sentiment::SentimentService;
use lia_store::DatabaseConnection;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Counts LLM attempts by provider and outcome, and retries.
#[derive(Debug, Default)]
pub(crate) struct LlmCounters {
    attempts: Mutex<BTreeMap<(String, String), u64>>,
    retries: Mutex<BTreeMap<String, u64>>,
}

impl AttemptObserver for LlmCounters {
    fn attempt(&self, provider: &str, attempt: u32, outcome: Result<(), &LlmError>) {
        let outcome = outcome
            .map_or_else(|error| error.kind(), |()| "ok")
            .to_owned();
        if let Ok(mut attempts) = self.attempts.lock() {
            *attempts.entry((provider.to_owned(), outcome)).or_insert(0) += 1;
        }
        if attempt > 1
            && let Ok(mut retries) = self.retries.lock()
        {
            *retries.entry(provider.to_owned()).or_insert(0) += 1;
        }
    }
}

/// Everything else the server measures.
pub(crate) struct ServerMetrics {
    pub(crate) cache: Arc<CacheStats>,
    /// The token users' cache, reported as `kind="profile"` beside the conversation caches.
    pub(crate) profiles: lia_auth::ProfileCache,
    pub(crate) llm: Arc<LlmCounters>,
    pub(crate) chat: ChatService,
    pub(crate) sentiment: Arc<SentimentService>,
    pub(crate) database: DatabaseConnection,
}

impl fmt::Debug for ServerMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerMetrics").finish_non_exhaustive()
    }
}

/// Labels as name/value pairs (empty for a metric without labels).
type Labels = Vec<(&'static str, String)>;

/// Writes counter `name` (without `_total`, which the encoder adds) with its samples.
fn counters(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels, u64)>,
) -> fmt::Result {
    let samples = samples.into_iter().map(|(l, v)| (l, ConstCounter::new(v)));
    family(encoder, name, help, MetricType::Counter, samples)
}

/// Writes gauge `name` with its samples.
fn gauges(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (Labels, i64)>,
) -> fmt::Result {
    let samples = samples.into_iter().map(|(l, v)| (l, ConstGauge::new(v)));
    family(encoder, name, help, MetricType::Gauge, samples)
}

/// Writes the descriptor of `name` and one sample per label set.
fn family<M: EncodeMetric>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: impl IntoIterator<Item = (Labels, M)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in samples {
        if labels.is_empty() {
            value.encode(metric.encode_family(&NoLabels)?)?;
        } else {
            value.encode(metric.encode_family(&labels)?)?;
        }
    }
    Ok(())
}

/// The empty label set (an empty `Vec` would print `{}`).
#[derive(Debug)]
struct NoLabels;

impl EncodeLabelSet for NoLabels {
    fn encode(
        &self,
        _encoder: &mut prometheus_client::encoding::LabelSetEncoder<'_>,
    ) -> fmt::Result {
        Ok(())
    }
}

fn one(value: u64) -> [(Labels, u64); 1] {
    [(Vec::new(), value)]
}

fn gauge_value(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Collector for ServerMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let encoder = &mut encoder;
        let (profile_hits, profile_misses) = self.profiles.counts();
        let by_kind = |read: &dyn Fn(CacheKind) -> u64, profile: u64| -> Vec<(Labels, u64)> {
            CacheKind::ALL
                .iter()
                .map(|kind| (vec![("kind", kind.as_str().to_owned())], read(*kind)))
                .chain([(vec![("kind", "profile".to_owned())], profile)])
                .collect()
        };
        counters(
            encoder,
            "lia_cache_hits",
            "Cache hits by kind.",
            by_kind(&|k| self.cache.hits(k), profile_hits),
        )?;
        counters(
            encoder,
            "lia_cache_misses",
            "Cache misses by kind.",
            by_kind(&|k| self.cache.misses(k), profile_misses),
        )?;
        counters(
            encoder,
            "lia_cache_faults",
            "Cache operations that failed and were skipped.",
            one(self.cache.faults()),
        )?;

        let attempts: Vec<(Labels, u64)> = self.llm.attempts.lock().map_or_else(
            |_| Vec::new(),
            |attempts| {
                attempts
                    .iter()
                    .map(|((provider, outcome), n)| {
                        (
                            vec![("provider", provider.clone()), ("outcome", outcome.clone())],
                            *n,
                        )
                    })
                    .collect()
            },
        );
        counters(
            encoder,
            "lia_llm_attempts",
            "LLM attempts by provider and outcome (ok or error kind).",
            attempts,
        )?;
        let retries: Vec<(Labels, u64)> = self.llm.retries.lock().map_or_else(
            |_| Vec::new(),
            |retries| {
                retries
                    .iter()
                    .map(|(provider, n)| (vec![("provider", provider.clone())], *n))
                    .collect()
            },
        );
        counters(
            encoder,
            "lia_llm_retries",
            "LLM attempts after the first, by provider.",
            retries,
        )?;

        let mut tokens: Vec<_> = self.chat.usage().snapshot().into_iter().collect();
        tokens.sort();
        counters(
            encoder,
            "lia_llm_tokens",
            "Tokens of stored replies by provider, model (catalogue models, else other), kind and source (provider or estimated).",
            tokens
                .into_iter()
                .map(|((provider, model, kind, source), n)| {
                    (
                        vec![
                            ("provider", provider.to_string()),
                            ("model", model.to_string()),
                            ("kind", kind.to_string()),
                            ("source", source.to_string()),
                        ],
                        n,
                    )
                }),
        )?;

        let circuits = self.chat.llm().circuits();
        gauges(
            encoder,
            "lia_llm_circuit_open",
            "1 while a provider's circuit is open or half-open (calls skip it), else 0.",
            circuits.iter().map(|(provider, state, _)| {
                let open = i64::from(*state != lia_llm::CircuitState::Closed);
                (vec![("provider", provider.to_string())], open)
            }),
        )?;

        let counters_now = self.chat.counters();
        counters(
            encoder,
            "lia_chat_turns",
            "Chat turns started.",
            one(counters_now.started.load(Ordering::Relaxed)),
        )?;
        counters(
            encoder,
            "lia_chat_turn_failures",
            "Chat turns that ended with a provider error.",
            one(counters_now.failed.load(Ordering::Relaxed)),
        )?;
        gauges(
            encoder,
            "lia_chat_active_turns",
            "Chat turns generating now.",
            [(Vec::new(), gauge_value(self.chat.active_turns()))],
        )?;
        counters(
            encoder,
            "lia_sentiment_fallbacks",
            "Sentiment results that fell back to neutral.",
            one(self.sentiment.fallback_count()),
        )?;
        counters(
            encoder,
            "lia_background_task_failures",
            "Background tasks that failed or panicked.",
            one(self.chat.tracker().failures()),
        )?;
        let (open, idle) = lia_store::pool_usage(&self.database);
        let open = i64::from(open);
        let idle = gauge_value(idle);
        gauges(
            encoder,
            "lia_db_pool_connections",
            "Database pool connections by state.",
            [
                (vec![("state", "idle".to_owned())], idle),
                (
                    vec![("state", "in_use".to_owned())],
                    open.saturating_sub(idle),
                ),
            ],
        )
    }
}
