//! What every handler shares: the services (built once by the server and handed in), the
//! static answers built at start-up, and the HTTP settings.

use std::sync::Arc;

use actix_web::web::Bytes;
use lia_auth::Accounts;
use lia_chat::{ChatService, ConversationService};
use lia_domain::ports::{RateLimitScope, RateLimiter};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::health::Probe;

/// The auth cookie's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CookieSettings {
    /// Its name.
    pub name: String,
    /// `Secure` (browsers accept it on `http://localhost` too).
    pub secure: bool,
    /// `lax`, `strict` or `none`.
    pub same_site: String,
    /// `Domain`, when set.
    pub domain: Option<String>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        Self {
            name: "access_token".into(),
            secure: true,
            same_site: "lax".into(),
            domain: None,
        }
    }
}

/// HTTP-level settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiSettings {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Read the client IP from `Forwarded` or `X-Forwarded-For` when the peer is one of
    /// `trusted_proxies` (set it only behind a reverse proxy you run).
    pub trust_proxy_headers: bool,
    /// The proxies whose forwarding headers are believed, as networks (`10.0.0.0/8`,
    /// `::1/128`, or a single address); default: loopback only.
    pub trusted_proxies: Vec<String>,
    /// The auth cookie.
    pub cookie: CookieSettings,
    /// Origins allowed to call with credentials; never `*`.
    pub cors_origins: Vec<String>,
    /// Debug mode: `/health/info` answers, and no HSTS header.
    pub debug: bool,
    /// `development`, `staging` or `production`, as shown by `GET /`.
    pub environment: String,
    /// Bearer token for `/metrics` and `/health/info`; unset means they answer loopback
    /// clients only (refused at start-up in production unless they have their own listener).
    pub metrics_token: Option<lia_domain::Secret>,
    /// Set by the server when `metrics.listen` serves the operations endpoints on their own
    /// listener: the public listener then answers 404 for them.
    #[serde(skip)]
    pub operations_elsewhere: bool,
    /// Set on the state of that separate listener: there, without a token, the listener's
    /// own address is the access control.
    #[serde(skip)]
    pub operations_listener: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 64 * 1024,
            trust_proxy_headers: false,
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1/128".into()],
            cookie: CookieSettings::default(),
            cors_origins: vec![
                "http://localhost:5173".into(),
                "http://localhost:3000".into(),
                "https://lia.nicx.app".into(),
            ],
            debug: false,
            environment: "development".into(),
            metrics_token: None,
            operations_elsewhere: false,
            operations_listener: false,
        }
    }
}

/// Answers computed once at start-up and served from memory.
#[derive(Debug, Clone)]
pub struct StaticAnswers {
    /// `GET /chat/models`.
    pub models: Bytes,
    /// `GET /chat/methods`.
    pub methods: Bytes,
}

impl StaticAnswers {
    /// Serialises the model catalogue and the method names once.
    ///
    /// # Errors
    /// When serialisation fails.
    pub fn new(models: &impl Serialize, methods: &[&str]) -> Result<Self, serde_json::Error> {
        Ok(Self {
            models: Bytes::from(serde_json::to_vec(models)?),
            methods: Bytes::from(serde_json::to_vec(methods)?),
        })
    }
}

/// Whether the server is draining (shutting down): readiness then answers 503, so a load
/// balancer stops sending new requests while in-flight ones finish. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Draining(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Draining {
    /// Draining starts now (it never stops: the process is on its way out).
    pub fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether draining has started.
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The shared state.
#[derive(Clone)]
pub struct ApiState {
    /// Accounts and tokens.
    pub accounts: Accounts,
    /// Conversation reads and changes.
    pub conversations: ConversationService,
    /// Chat turns (absent in tests that need no chat).
    pub chat: Option<ChatService>,
    /// Rate limits.
    pub limiter: Arc<dyn RateLimiter>,
    /// Dependency checks for the health endpoints.
    pub probes: Vec<Arc<dyn Probe>>,
    /// Static answers.
    pub answers: StaticAnswers,
    /// HTTP settings.
    pub settings: ApiSettings,
    /// When the process started, for `/health/info`.
    pub started: std::time::Instant,
    /// The metrics registry: request counts and latencies, recorded by the telemetry
    /// middleware, and the collectors of the rest of the server (cache, LLM, chat, database).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Set when shutdown begins.
    pub draining: Draining,
    /// The parsed `trusted_proxies`.
    pub trusted_proxies: Arc<crate::extract::TrustedProxies>,
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ApiState {
    /// Counts one request against `scope` for `key`. The auth limit fails closed (no decision
    /// means no login attempt), as a 503 that says the service is the problem, not a 429 that
    /// blames the user; the others fail open.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] when the request is over the limit,
    /// [`ApiError::Unavailable`] when the auth limit cannot decide.
    pub async fn enforce_limit(&self, scope: RateLimitScope, key: &str) -> Result<(), ApiError> {
        match self.limiter.check(scope, key).await {
            Ok(decision) if decision.allowed => Ok(()),
            Ok(decision) => Err(ApiError::RateLimited {
                retry_after: decision.retry_after,
                limit: decision.limit,
            }),
            Err(error) if scope == RateLimitScope::Auth => {
                tracing::warn!(%error, "auth rate limiter unavailable; refusing (fail closed)");
                Err(ApiError::Unavailable(Box::new(error)))
            }
            Err(error) => {
                tracing::warn!(%error, ?scope, "rate limiter unavailable; admitting (fail open)");
                Ok(())
            }
        }
    }
}
