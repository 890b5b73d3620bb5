//! The server's own metrics source: everything `/metrics` shows beyond HTTP requests.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use lia_api::MetricsSource;
use lia_api::metrics::write_metric;
use lia_cache::{CacheKind, CacheStats};
use lia_chat::ChatService;
use lia_llm::{AttemptObserver, LlmError};
use lia_sentiment::SentimentService;
use lia_store::DatabaseConnection;

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

#[expect(clippy::cast_precision_loss, reason = "counters far below 2^52")]
fn float(value: u64) -> f64 {
    value as f64
}

impl MetricsSource for ServerMetrics {
    fn render(&self) -> String {
        let mut out = String::new();
        let (profile_hits, profile_misses) = self.profiles.counts();
        let by_kind = |read: &dyn Fn(CacheKind) -> u64, profile: u64| -> Vec<(String, f64)> {
            CacheKind::ALL
                .iter()
                .map(|kind| (format!("kind=\"{}\"", kind.as_str()), float(read(*kind))))
                .chain([("kind=\"profile\"".to_owned(), float(profile))])
                .collect()
        };
        write_metric(
            &mut out,
            "lia_cache_hits_total",
            "counter",
            "Cache hits by kind.",
            &by_kind(&|k| self.cache.hits(k), profile_hits),
        );
        write_metric(
            &mut out,
            "lia_cache_misses_total",
            "counter",
            "Cache misses by kind.",
            &by_kind(&|k| self.cache.misses(k), profile_misses),
        );
        write_metric(
            &mut out,
            "lia_cache_faults_total",
            "counter",
            "Cache operations that failed and were skipped.",
            &[(String::new(), float(self.cache.faults()))],
        );

        let attempts: Vec<(String, f64)> = self.llm.attempts.lock().map_or_else(
            |_| Vec::new(),
            |attempts| {
                attempts
                    .iter()
                    .map(|((provider, outcome), n)| {
                        (
                            format!("provider=\"{provider}\",outcome=\"{outcome}\""),
                            float(*n),
                        )
                    })
                    .collect()
            },
        );
        write_metric(
            &mut out,
            "lia_llm_attempts_total",
            "counter",
            "LLM attempts by provider and outcome (ok or error kind).",
            &attempts,
        );
        let retries: Vec<(String, f64)> = self.llm.retries.lock().map_or_else(
            |_| Vec::new(),
            |retries| {
                retries
                    .iter()
                    .map(|(provider, n)| (format!("provider=\"{provider}\""), float(*n)))
                    .collect()
            },
        );
        write_metric(
            &mut out,
            "lia_llm_retries_total",
            "counter",
            "LLM attempts after the first, by provider.",
            &retries,
        );

        let mut tokens: Vec<(String, f64)> = self
            .chat
            .usage()
            .snapshot()
            .into_iter()
            .map(|((provider, model, kind, source), n)| {
                (
                    format!(
                        "provider=\"{provider}\",model=\"{model}\",kind=\"{kind}\",source=\"{source}\""
                    ),
                    float(n),
                )
            })
            .collect();
        tokens.sort_by(|a, b| a.0.cmp(&b.0));
        write_metric(
            &mut out,
            "lia_llm_tokens_total",
            "counter",
            "Tokens of stored replies by provider, model (catalogue models, else other), kind and source (provider or estimated).",
            &tokens,
        );

        let circuits = self.chat.llm().circuits();
        let open: Vec<(String, f64)> = circuits
            .iter()
            .map(|(provider, state, _)| {
                let open = u64::from(*state != lia_llm::CircuitState::Closed);
                (format!("provider=\"{provider}\""), float(open))
            })
            .collect();
        write_metric(
            &mut out,
            "lia_llm_circuit_open",
            "gauge",
            "1 while a provider's circuit is open or half-open (calls skip it), else 0.",
            &open,
        );

        let counters = self.chat.counters();
        let started = counters.started.load(Ordering::Relaxed);
        write_metric(
            &mut out,
            "lia_chat_turns_total",
            "counter",
            "Chat turns started.",
            &[(String::new(), float(started))],
        );
        write_metric(
            &mut out,
            "lia_chat_turn_failures_total",
            "counter",
            "Chat turns that ended with a provider error.",
            &[(
                String::new(),
                float(counters.failed.load(Ordering::Relaxed)),
            )],
        );
        write_metric(
            &mut out,
            "lia_chat_active_turns",
            "gauge",
            "Chat turns generating now.",
            &[(String::new(), float(self.chat.active_turns() as u64))],
        );
        write_metric(
            &mut out,
            "lia_sentiment_fallbacks_total",
            "counter",
            "Sentiment results that fell back to neutral.",
            &[(String::new(), float(self.sentiment.fallback_count()))],
        );
        write_metric(
            &mut out,
            "lia_background_task_failures_total",
            "counter",
            "Background tasks that failed or panicked.",
            &[(String::new(), float(self.chat.tracker().failures()))],
        );
        let (open, idle) = lia_store::pool_usage(&self.database);
        write_metric(
            &mut out,
            "lia_db_pool_connections",
            "gauge",
            "Database pool connections by state.",
            &[
                ("state=\"idle\"".into(), float(idle as u64)),
                (
                    "state=\"in_use\"".into(),
                    float(u64::from(open).saturating_sub(idle as u64)),
                ),
            ],
        );
        out
    }
}
