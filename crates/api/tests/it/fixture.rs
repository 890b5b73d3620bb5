//! An [`ApiState`] over SQLite in a temporary directory and the in-process cache and rate
//! limiter, without a chat service: what a route test or the middleware benchmark needs.

use std::sync::Arc;

use actix_web::web;
use lia_api::{ApiSettings, ApiState, Draining, Metrics, StaticAnswers, TrustedProxies};
use lia_auth::{
    Accounts, HashingConfig, JwtAlgorithm, PasswordHasher, ProfileCache, ProfileCacheConfig,
    TokenService,
};
use lia_cache::{CacheConfig, CacheStats, MemoryCache, MemoryRateLimiter, RateLimitConfig};
use lia_chat::ConversationService;
use lia_domain::ports::NewTurn;
use lia_domain::{ConversationId, ConversationRepository, MessageText, Secret, UserId};
use lia_domain::{Email, Password, Username};
use lia_store::testing::ScratchSqlite;

/// The state and the database under it.
pub(crate) struct Fixture {
    /// The database the state reads.
    pub(crate) sqlite: ScratchSqlite,
    /// The state to build [`lia_api::app`] with.
    pub(crate) state: web::Data<ApiState>,
}

/// A fresh fixture with `settings`.
pub(crate) async fn fixture(settings: ApiSettings) -> Fixture {
    let sqlite = ScratchSqlite::create().await;
    let database = &sqlite.database;
    // The cheapest Argon2id parameters: these tests are about HTTP, not hashing cost.
    let hasher = PasswordHasher::new(&HashingConfig {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
        legacy_bcrypt_cost: 0,
    })
    .unwrap();
    let tokens = TokenService::new(
        &Secret::new("a test secret of at least thirty-two bytes"),
        JwtAlgorithm::default(),
        1,
    )
    .unwrap();
    let stats = Arc::new(CacheStats::default());
    let cache = Arc::new(MemoryCache::new(&CacheConfig::default(), stats));
    let conversations = ConversationService::new(Arc::new(database.conversations()), cache, 100)
        .with_detail_encoder(Arc::new(|page, window| {
            lia_api::encode_detail(page, window).map_err(Into::into)
        }));
    let state = ApiState {
        // As the server runs it: the token's account check answered in process when fresh.
        accounts: Accounts::new(Arc::new(database.users()), hasher, tokens).with_profile_cache(
            ProfileCache::new(
                ProfileCacheConfig::default(),
                Arc::new(lia_domain::clock::SystemClock),
            ),
        ),
        conversations,
        chat: None,
        limiter: Arc::new(MemoryRateLimiter::new(RateLimitConfig::default(), 10_000)),
        probes: Vec::new(),
        answers: StaticAnswers::new(&serde_json::json!([]), &["lexicon"]).unwrap(),
        trusted_proxies: Arc::new(TrustedProxies::parse(&settings.trusted_proxies).unwrap()),
        settings,
        started: std::time::Instant::now(),
        metrics: Arc::new(Metrics::default()),
        draining: Draining::default(),
    };
    Fixture {
        sqlite,
        state: web::Data::new(state),
    }
}

impl Fixture {
    /// Registers `name` and returns their id and access token.
    pub(crate) async fn user(&self, name: &str) -> (UserId, String) {
        let session = self
            .state
            .accounts
            .register(
                Email::parse(&format!("{name}@example.com")).unwrap(),
                Username::parse(name).unwrap(),
                Password::parse("A long enough passw0rd!").unwrap(),
            )
            .await
            .unwrap();
        (session.user.id, session.token.token)
    }

    /// A new conversation of `owner` holding one message, `text`.
    pub(crate) async fn conversation(&self, owner: UserId, text: &str) -> ConversationId {
        self.sqlite
            .database
            .conversations()
            .start_turn(NewTurn {
                user_id: owner,
                conversation_id: None,
                content: MessageText::parse(text).unwrap(),
                context_limit: 10,
                stream_id: format!("{owner}-{}", uuid::Uuid::new_v4().simple()),
                provider: "local".into(),
                model: "lia-local".into(),
                request: "{}".into(),
            })
            .await
            .unwrap()
            .conversation
            .id
    }
}
