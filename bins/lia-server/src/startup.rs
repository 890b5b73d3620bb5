//! The composition root: builds every adapter and service once from the settings and serves
//! them. Nothing else constructs adapters.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::{HttpServer, web};
use lia_api::{ApiState, Draining, StaticAnswers};
use lia_auth::{Accounts, PasswordHasher, TokenService};
use lia_cache::{
    CacheStats, MemoryCache, MemoryRateLimiter, MemoryStreamBuffer, MemoryTurnLeases, RedisCache,
    RedisConnection, RedisRateLimiter, RedisStreamBuffer, RedisTurnLeases,
};
use lia_chat::{ChatDependencies, ChatService, ConversationService, TaskTracker};
use lia_domain::ports::{ConversationCache, RateLimiter, StreamBuffer, TurnLeases};
use lia_llm::ProviderRegistry;
use lia_sentiment::SentimentService;

use crate::errors::StartupError;
use crate::metrics::{LlmCounters, ServerMetrics};
use crate::probes::{DatabaseProbe, MemoryCacheProbe, Probes, RedisProbe};
use crate::settings::{Environment, Settings};

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Drained and closed within the grace period (or the server ended on its own).
    Gracefully,
    /// A second signal cut the shutdown short.
    Forced,
}

/// The runtime chat turns run on, apart from the HTTP workers, so a turn outlives its
/// connection. Dropping it never blocks (a runtime dropped inside async code, as on an
/// early start-up error, would panic otherwise).
struct TurnsRuntime(Option<tokio::runtime::Runtime>);

impl TurnsRuntime {
    fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.0.as_ref().map(|runtime| runtime.handle().clone())
    }
}

impl Drop for TurnsRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A built, bound, not yet running server.
pub struct Application {
    server: Server,
    port: u16,
    /// The `metrics.listen` listener, when configured.
    operations: Option<Server>,
    operations_port: Option<u16>,
    chat: ChatService,
    grace: Duration,
    draining: Draining,
    database: lia_store::Database,
    redis: Option<RedisConnection>,
    _turns_runtime: TurnsRuntime,
}

impl Application {
    /// Connects, migrates, builds the services and binds the listener.
    ///
    /// # Errors
    /// A [`StartupError`] naming the cause: the database cannot be opened or migrated, Redis
    /// is required and does not answer, the address cannot be bound.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Arc::new(lia_domain::clock::SystemClock)).await
    }

    /// [`Application::build`] with `clock` as the service's wall clock (the day usage is
    /// counted on and quotas renew): tests move it instead of waiting for midnight.
    ///
    /// # Errors
    /// As [`Application::build`].
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn lia_domain::clock::Clock>,
    ) -> Result<Self, StartupError> {
        let started = Instant::now();
        let database = lia_store::Database::open(&settings.database)
            .await
            .map_err(StartupError::database)?;
        database.migrate().await.map_err(StartupError::database)?;
        let connection = database.reads().clone();
        let database_kind = database.kind();

        // Cache keys carry the database's identity: a Redis shared with another database, or
        // kept across a restore or `migrate fresh`, never answers for this one.
        let identity = database.identity().await.map_err(StartupError::database)?;
        let stats = Arc::new(CacheStats::default());
        let backends = cache_backends(&settings, &identity, Arc::clone(&stats)).await?;
        let CacheBackends {
            cache,
            limiter,
            buffer,
            leases,
            probe: cache_probe,
            redis,
        } = backends;
        if redis.is_none() && database_kind == "postgresql" {
            tracing::warn!(
                "PostgreSQL without Redis: run one instance only (rate limits, active-turn caps and turn recovery are per process)"
            );
        }
        let probes: Probes = vec![
            Arc::new(DatabaseProbe {
                connection: connection.clone(),
                kind: database_kind,
            }),
            cache_probe,
        ];

        let llm_counters = Arc::new(LlmCounters::default());
        let observer: Arc<dyn lia_llm::AttemptObserver> = llm_counters.clone();
        let registry = Arc::new(
            ProviderRegistry::from_config(&settings.llm, Some(observer))
                .map_err(StartupError::other)?,
        );
        let sentiment = Arc::new(SentimentService::new(
            &settings.sentiment,
            Some(Arc::clone(&registry)),
        ));
        let tokens = TokenService::new(
            &jwt_secret(&settings),
            settings.auth.jwt_algorithm,
            settings.auth.token_days,
        )
        .map_err(StartupError::other)?;
        let hasher = PasswordHasher::new(&settings.auth.hashing).map_err(StartupError::other)?;
        let users = Arc::new(database.users());
        let accounts = Accounts::new(users, hasher, tokens).with_profile_cache(
            lia_auth::ProfileCache::new(settings.auth.profile_cache, Arc::clone(&clock)),
        );
        let profiles = accounts.profiles().clone();
        let repository = Arc::new(database.conversations());
        let conversations = ConversationService::new(
            repository.clone(),
            Arc::clone(&cache),
            settings.cache.history_max_entries,
        )
        .with_detail_encoder(Arc::new(|page, window| {
            lia_api::encode_detail(page, window).map_err(Into::into)
        }));
        // Only a cache outside the process stores rows as the edge's bytes; the in-process
        // one keeps the values (each page is encoded once by its first reader), so encoding
        // every row of a fill there would be work thrown away.
        let conversations = if redis.is_some() {
            conversations.with_history_row_encoder(Arc::new(|summary| {
                lia_api::encode_history_row(summary).map_err(Into::into)
            }))
        } else {
            conversations
        };
        let turns_runtime = TurnsRuntime(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(settings.chat.turn_threads.max(1))
                .thread_name("lia-turns")
                .enable_all()
                .build()
                .map_err(StartupError::other)?,
        ));
        let tracker = TaskTracker::new(
            turns_runtime
                .handle()
                .ok_or_else(|| StartupError::Other("the turn runtime is gone".into()))?,
        );
        let chat = ChatService::new(
            ChatDependencies {
                repository,
                cache: Arc::clone(&cache) as Arc<dyn lia_domain::ports::HistoryCache>,
                buffer,
                leases,
                llm: Arc::clone(&registry),
                sentiment: Arc::clone(&sentiment),
                tracker,
                usage: Arc::new(database.usage()),
                quotas: settings.quotas,
                clock,
            },
            settings.chat.turns.clone(),
        );

        let methods: Vec<&str> = sentiment.methods().iter().map(|m| m.as_str()).collect();
        let answers =
            StaticAnswers::new(registry.catalogue(), &methods).map_err(StartupError::other)?;
        let draining = Draining::default();
        let state = ApiState {
            accounts,
            conversations,
            chat: Some(chat.clone()),
            limiter,
            probes,
            answers,
            settings: settings.http.clone(),
            started,
            metrics: Arc::new(
                lia_api::Metrics::new().with_collector(Box::new(ServerMetrics {
                    cache: stats,
                    profiles,
                    llm: llm_counters,
                    chat: chat.clone(),
                    sentiment: Arc::clone(&sentiment),
                    database: connection.clone(),
                })),
            ),
            draining: draining.clone(),
            trusted_proxies: Arc::new(
                lia_api::TrustedProxies::parse(&settings.http.trusted_proxies).map_err(
                    |problem| {
                        StartupError::Config(crate::settings::SettingsError(format!(
                            "http.trusted_proxies: {problem}"
                        )))
                    },
                )?,
            ),
        };
        let operations = match &settings.metrics.listen {
            Some(address) => Some(operations_server(address, &state)?),
            None => None,
        };
        let mut state = state;
        state.settings.operations_elsewhere = operations.is_some();
        let state = web::Data::new(state);

        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|error| StartupError::bind(&address, &error))?;
        let port = listener
            .local_addr()
            .map_err(|error| StartupError::bind(&address, &error))?
            .port();
        let mut server = HttpServer::new(move || lia_api::app(state.clone()))
            .shutdown_timeout(settings.server.shutdown_grace_secs)
            // Signals are handled in `run_until_stopped`, which stops HTTP and winds down chat
            // turns together.
            .disable_signals()
            .listen(listener)
            .map_err(|error| StartupError::bind(&address, &error))?;
        if let Some(workers) = settings.server.workers {
            server = server.workers(workers);
        }
        let (operations, operations_port) = match operations {
            Some((server, port)) => (Some(server), Some(port)),
            None => (None, None),
        };
        tracing::info!(
            port,
            operations_port,
            database = database_kind,
            elapsed_ms = started.elapsed().as_millis(),
            "listening"
        );
        let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
        Ok(Self {
            server: server.run(),
            port,
            operations,
            operations_port,
            chat,
            grace,
            draining,
            database,
            redis,
            _turns_runtime: turns_runtime,
        })
    }

    /// The bound port (useful with port 0).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then shuts down: readiness turns unavailable, the
    /// listener closes, turns get the grace period (the first half to finish on their own,
    /// the rest to store what they have as `interrupted`), in-flight responses end, the pools
    /// close. A second signal cuts it short.
    ///
    /// # Errors
    /// When the server fails, or the signal handlers cannot be installed.
    pub async fn run_until_stopped(mut self) -> std::io::Result<Stopped> {
        let mut signals = Signals::new()?;
        let handle = self.server.handle();
        // The operations listener serves until the public one has drained, so a scrape can
        // watch the shutdown.
        let operations = self.operations.take().map(|server| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let stop_operations = || async {
            if let Some((task, handle)) = operations {
                handle.stop(true).await;
                let _ = task.await;
            }
        };
        tokio::select! {
            served = &mut self.server => {
                served?;
                self.chat.shutdown(self.grace).await;
                stop_operations().await;
                close(&self.database, self.redis.as_ref()).await;
                return Ok(Stopped::Gracefully);
            }
            signal = signals.next() => {
                // Draining first, then the log line: whoever reads it finds readiness off.
                self.draining.start();
                tracing::info!(signal, active_turns = self.chat.active_turns(), "shutting down");
            }
        }
        let chat = self.chat.clone();
        let grace = self.grace;
        let winding_down = async {
            let (finished, ()) = tokio::join!(chat.shutdown(grace), handle.stop(true));
            if !finished {
                tracing::warn!(
                    active = chat.active_turns(),
                    "the grace period passed with turns still running"
                );
            }
        };
        // The server future must be polled for its stop to complete.
        let stopping = async { tokio::join!(&mut self.server, winding_down).0 };
        tokio::select! {
            served = stopping => served?,
            signal = signals.next() => {
                tracing::warn!(signal, "second signal: exiting now");
                return Ok(Stopped::Forced);
            }
        }
        stop_operations().await;
        close(&self.database, self.redis.as_ref()).await;
        tracing::info!("stopped");
        Ok(Stopped::Gracefully)
    }

    /// The port of the operations listener (`metrics.listen`), when there is one.
    #[must_use]
    pub fn operations_port(&self) -> Option<u16> {
        self.operations_port
    }

    /// The chat service (for tests and metrics).
    #[must_use]
    pub fn chat(&self) -> &ChatService {
        &self.chat
    }
}

/// Binds the operations listener of `metrics.listen`: `/metrics`, `/health/*` only, on a
/// state that knows it is that listener.
fn operations_server(address: &str, state: &ApiState) -> Result<(Server, u16), StartupError> {
    let mut state = state.clone();
    state.settings.operations_listener = true;
    let state = web::Data::new(state);
    let listener =
        TcpListener::bind(address).map_err(|error| StartupError::bind(address, &error))?;
    let port = listener
        .local_addr()
        .map_err(|error| StartupError::bind(address, &error))?
        .port();
    let server = HttpServer::new(move || lia_api::operations_app(state.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|error| StartupError::bind(address, &error))?
        .run();
    Ok((server, port))
}

/// Closes the pools and connections.
async fn close(database: &lia_store::Database, redis: Option<&RedisConnection>) {
    if let Some(redis) = redis {
        redis.close().await;
    }
    database.close().await;
}

/// SIGINT and SIGTERM, as one stream of their names.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => "SIGTERM",
                _ = self.interrupt.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}

/// The cache, limiter and stream buffer: Redis when `REDIS_URL` is set, else in-process.
struct CacheBackends {
    cache: Arc<dyn ConversationCache>,
    limiter: Arc<dyn RateLimiter>,
    buffer: Arc<dyn StreamBuffer>,
    leases: Arc<dyn TurnLeases>,
    probe: Arc<dyn lia_api::Probe>,
    redis: Option<RedisConnection>,
}

async fn cache_backends(
    settings: &Settings,
    database_identity: &uuid::Uuid,
    stats: Arc<CacheStats>,
) -> Result<CacheBackends, StartupError> {
    let config = &lia_cache::CacheConfig {
        key_prefix: format!(
            "{}{}:",
            settings.cache.key_prefix,
            database_identity.simple()
        ),
        ..settings.cache.clone()
    };
    if let Some(url) = &config.redis_url {
        let redis = RedisConnection::connect(url.expose(), config, stats, Duration::from_secs(3))
            .await
            .map_err(|error| StartupError::Redis(error.to_string()))?;
        // A server asked to speak TLS refuses to start rather than run without it.
        let tls = url.expose().starts_with("rediss://");
        if (config.redis_required || tls) && redis.ping().await.is_err() {
            let why = if tls {
                "a rediss:// URL requires a verified TLS connection at start-up"
            } else {
                "cache.redis_required is set"
            };
            return Err(StartupError::Redis(format!(
                "{} does not answer ({why})",
                url.masked()
            )));
        }
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
            probe: Arc::new(RedisProbe {
                redis: redis.clone(),
            }),
            redis: Some(redis),
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
        redis: None,
    })
}

/// The configured secret, or (outside production) a random one with a loud warning.
fn jwt_secret(settings: &Settings) -> lia_domain::Secret {
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
    lia_domain::Secret::new(format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    ))
}
