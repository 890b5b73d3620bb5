//! The composition root: builds every adapter and service once from the settings and serves
//! them. Nothing else constructs adapters.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use anyhow::Context;
use lia_api::{ApiState, StaticAnswers};
use lia_auth::{Accounts, PasswordHasher, TokenService};
use lia_cache::{
    CacheStats, MemoryCache, MemoryRateLimiter, MemoryStreamBuffer, MemoryTurnLeases, RedisCache,
    RedisConnection, RedisRateLimiter, RedisStreamBuffer, RedisTurnLeases,
};
use lia_chat::{ChatDependencies, ChatService, ConversationService, TaskTracker};
use lia_domain::ports::{ConversationCache, RateLimiter, StreamBuffer, TurnLeases};
use lia_llm::ProviderRegistry;
use lia_sentiment::SentimentService;

use crate::metrics::{LlmCounters, ServerMetrics};
use crate::probes::{DatabaseProbe, MemoryCacheProbe, Probes, RedisProbe};
use crate::settings::{Environment, Settings};

/// A built, bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    chat: ChatService,
    grace: Duration,
    /// Chat turns run here, apart from the HTTP workers, so a turn outlives its connection.
    turns_runtime: Option<tokio::runtime::Runtime>,
}

impl Application {
    /// Connects, migrates, builds the services and binds the listener.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated, or the address cannot be bound.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let started = Instant::now();
        let database = lia_store::Database::open(&settings.database).await?;
        database.migrate().await?;
        let connection = database.reads().clone();
        let database_kind = database.kind();

        // Cache keys carry the database's identity: a Redis shared with another database, or
        // kept across a restore or `migrate fresh`, never answers for this one.
        let identity = database.identity().await?;
        let stats = Arc::new(CacheStats::default());
        let backends = cache_backends(&settings, &identity, Arc::clone(&stats)).await?;
        let CacheBackends {
            cache,
            limiter,
            buffer,
            leases,
            probe: cache_probe,
        } = backends;
        let probes: Probes = vec![
            Arc::new(DatabaseProbe {
                connection: connection.clone(),
                kind: database_kind,
            }),
            cache_probe,
        ];

        let llm_counters = Arc::new(LlmCounters::default());
        let observer: Arc<dyn lia_llm::AttemptObserver> = llm_counters.clone();
        let registry = Arc::new(ProviderRegistry::from_config(
            &settings.llm,
            Some(observer),
        )?);
        let sentiment = Arc::new(SentimentService::new(
            &settings.sentiment,
            Some(Arc::clone(&registry)),
        ));
        let tokens = TokenService::new(
            &jwt_secret(&settings),
            settings.auth.jwt_algorithm,
            settings.auth.token_days,
        )?;
        let hasher = PasswordHasher::new(&settings.auth.hashing)?;
        let users = Arc::new(database.users());
        let accounts = Accounts::new(users, hasher, tokens);
        let repository = Arc::new(database.conversations());
        let conversations = ConversationService::new(
            repository.clone(),
            Arc::clone(&cache),
            settings.cache.history_max_entries,
        );
        let turns_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(settings.chat.turn_threads.max(1))
            .thread_name("lia-turns")
            .enable_all()
            .build()?;
        let tracker = TaskTracker::new(turns_runtime.handle().clone());
        let chat = ChatService::new(
            ChatDependencies {
                repository,
                cache: Arc::clone(&cache),
                buffer,
                leases,
                llm: Arc::clone(&registry),
                sentiment: Arc::clone(&sentiment),
                tracker,
            },
            settings.chat.turns.clone(),
        );

        let methods: Vec<&str> = sentiment.methods().iter().map(|m| m.as_str()).collect();
        let answers = StaticAnswers::new(registry.catalogue(), &methods)?;
        let state = web::Data::new(ApiState {
            accounts,
            conversations,
            chat: Some(chat.clone()),
            limiter,
            probes,
            answers,
            settings: settings.http.clone(),
            started,
            metrics: Arc::new(lia_api::HttpMetrics::default()),
            metrics_source: Some(Arc::new(ServerMetrics {
                cache: stats,
                llm: llm_counters,
                chat: chat.clone(),
                sentiment: Arc::clone(&sentiment),
                database: connection.clone(),
            })),
        });

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "cannot bind {}:{}",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let mut server = HttpServer::new(move || lia_api::app(state.clone()))
            .shutdown_timeout(settings.server.shutdown_grace_secs)
            // Signals are handled in `run_until_stopped`, which stops HTTP and winds down chat
            // turns together.
            .disable_signals()
            .listen(listener)?;
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        tracing::info!(
            port,
            database = database_kind,
            elapsed_ms = started.elapsed().as_millis(),
            "listening"
        );
        let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
        Ok(Self {
            server: server.run(),
            port,
            chat,
            grace,
            turns_runtime: Some(turns_runtime),
        })
    }

    /// The bound port (useful with port 0).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then shuts down gracefully.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let served = tokio::select! {
            served = &mut self.server => served,
            () = shutdown_signal() => {
                tracing::info!(active_turns = self.chat.active_turns(), "shutting down");
                // HTTP stops accepting and waits for in-flight responses while the turns
                // finish (or, past half the grace period, store what they have as
                // `interrupted`), which is also what ends the streams being followed.
                let (_, finished) = tokio::join!(handle.stop(true), self.chat.shutdown(self.grace));
                if !finished {
                    tracing::warn!(active = self.chat.active_turns(), "shutdown deadline passed with turns still running");
                }
                (&mut self.server).await
            }
        };
        // Tasks left after the server ended on its own (or after the grace period).
        self.chat.shutdown(self.grace).await;
        if let Some(runtime) = self.turns_runtime.take() {
            runtime.shutdown_background();
        }
        served
    }

    /// The chat service (for tests and metrics).
    #[must_use]
    pub fn chat(&self) -> &ChatService {
        &self.chat
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = interrupt => {}
            () = terminate => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// The cache, limiter and stream buffer: Redis when `REDIS_URL` is set, else in-process.
struct CacheBackends {
    cache: Arc<dyn ConversationCache>,
    limiter: Arc<dyn RateLimiter>,
    buffer: Arc<dyn StreamBuffer>,
    leases: Arc<dyn TurnLeases>,
    probe: Arc<dyn lia_api::Probe>,
}

async fn cache_backends(
    settings: &Settings,
    database_identity: &uuid::Uuid,
    stats: Arc<CacheStats>,
) -> anyhow::Result<CacheBackends> {
    let config = &lia_cache::CacheConfig {
        key_prefix: format!(
            "{}{}:",
            settings.cache.key_prefix,
            database_identity.simple()
        ),
        ..settings.cache.clone()
    };
    if let Some(url) = &config.redis_url {
        let redis = RedisConnection::connect(url, config, stats, Duration::from_secs(3)).await?;
        return Ok(CacheBackends {
            cache: Arc::new(RedisCache::new(redis.clone(), config.clone())),
            limiter: Arc::new(RedisRateLimiter::new(
                redis.clone(),
                settings.rate_limits.clone(),
            )),
            buffer: Arc::new(RedisStreamBuffer::new(
                redis.clone(),
                config.stream_max_events,
                config.stream_ttl_secs,
            )),
            leases: Arc::new(RedisTurnLeases::new(
                redis.clone(),
                settings.chat.turns.lease_ttl_ms,
            )),
            probe: Arc::new(RedisProbe { redis }),
        });
    }
    let max_keys = usize::try_from(config.memory_max_entries).unwrap_or(usize::MAX);
    Ok(CacheBackends {
        cache: Arc::new(MemoryCache::new(config, stats)),
        limiter: Arc::new(MemoryRateLimiter::new(
            settings.rate_limits.clone(),
            max_keys,
        )),
        buffer: Arc::new(MemoryStreamBuffer::new(config.memory_stream_limits())),
        leases: Arc::new(MemoryTurnLeases::new(Duration::from_millis(
            settings.chat.turns.lease_ttl_ms,
        ))),
        probe: Arc::new(MemoryCacheProbe),
    })
}

/// The configured secret, or (outside production) a random one with a loud warning.
fn jwt_secret(settings: &Settings) -> String {
    if let Some(secret) = &settings.auth.jwt_secret {
        return secret.clone();
    }
    debug_assert!(
        settings.app.env != Environment::Production,
        "validated at load time"
    );
    tracing::warn!(
        "JWT_SECRET is not set: using a random secret; every token dies with this process"
    );
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

impl Drop for Application {
    /// Dropping a runtime may block, which is refused inside async code (tests drop the
    /// application there); shutting it down in the background never blocks.
    fn drop(&mut self) {
        if let Some(runtime) = self.turns_runtime.take() {
            runtime.shutdown_background();
        }
    }
}
