//! Configuration: built-in defaults < optional file (`lia.toml`, or the path in `LIA_CONFIG`)
//! < environment (`LIA__SECTION__KEY`) < the conventional names (`DATABASE_URL`,
//! `REDIS_URL`, `JWT_SECRET`, `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `GEMINI_API_KEY`,
//! `GEMINI_BASE_URL`, `CORS_ORIGINS`, `HOST`, `PORT`). The environment is passed in as a map,
//! so tests never touch the process environment.

use std::collections::HashMap;

use lia_api::ApiSettings;
use lia_auth::{HashingConfig, JwtAlgorithm};
use lia_cache::{CacheConfig, RateLimitConfig};
use lia_llm::LlmConfig;
use lia_sentiment::SentimentConfig;
use lia_store::StoreConfig;
use serde::{Deserialize, Serialize};

/// Where the deployment runs; production is strict about secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine.
    #[default]
    Development,
    /// A staging deployment.
    Staging,
    /// Production.
    Production,
}

/// Process-level settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// The environment.
    pub env: Environment,
    /// Debug mode (`/health/info`, no HSTS).
    pub debug: bool,
    /// Log filter when `RUST_LOG` is unset, e.g. `info` or `lia=debug,info`.
    pub log_level: String,
    /// JSON log lines instead of human-readable ones.
    pub log_json: bool,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            env: Environment::Development,
            debug: false,
            log_level: "info".into(),
            log_json: false,
        }
    }
}

/// The listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind (0 picks a free one).
    pub port: u16,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// How long shutdown waits for in-flight requests and chat turns.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8000,
            workers: None,
            shutdown_grace_secs: 30,
        }
    }
}

/// Accounts and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The HMAC secret; unset in development means a random one per process.
    pub jwt_secret: Option<lia_domain::Secret>,
    /// The JWT algorithm (HS256, HS384, HS512).
    pub jwt_algorithm: JwtAlgorithm,
    /// Token lifetime in days (1..=30).
    pub token_days: u64,
    /// Argon2 parameters.
    pub hashing: HashingConfig,
    /// The short cache of token users in front of the database (`ttl_ms = 0` turns it off).
    pub profile_cache: lia_auth::ProfileCacheConfig,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_algorithm: JwtAlgorithm::HS256,
            token_days: 7,
            hashing: HashingConfig::default(),
            profile_cache: lia_auth::ProfileCacheConfig::default(),
        }
    }
}

/// The operations endpoints (`/metrics`, `/health/info`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsSettings {
    /// Serve them on their own listener at this address (the Prometheus convention,
    /// e.g. `127.0.0.1:9100`) and not on the public one. Without `http.metrics_token`, that
    /// listener's address is their only access control, so bind it where only the scraper
    /// reaches.
    pub listen: Option<String>,
}

/// Everything the server reads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Process.
    pub app: AppSettings,
    /// Listener.
    pub server: ServerSettings,
    /// HTTP behaviour (body limit, cookie, CORS).
    pub http: ApiSettings,
    /// Database.
    pub database: StoreConfig,
    /// Cache, stream buffer.
    pub cache: CacheConfig,
    /// Rate limits.
    pub rate_limits: RateLimitConfig,
    /// Accounts.
    pub auth: AuthSettings,
    /// LLM providers.
    pub llm: LlmConfig,
    /// Sentiment strategies.
    pub sentiment: SentimentConfig,
    /// Chat turns.
    pub chat: ChatSettings,
    /// Per-user daily token budgets.
    pub quotas: lia_chat::QuotaConfig,
    /// Operations endpoints.
    pub metrics: MetricsSettings,
}

/// Chat turn settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    /// Threads of the runtime chat turns run on.
    pub turn_threads: usize,
    /// Context size, per-user cap, sentiment timeout, system prompt.
    #[serde(flatten)]
    pub turns: lia_chat::ChatConfig,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            turn_threads: 2,
            turns: lia_chat::ChatConfig::default(),
        }
    }
}

/// Invalid configuration; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct SettingsError(pub String);

/// The reference service's names are read too, so an operator can switch backends without
/// renaming the environment (its secret keeps its users' tokens valid).
pub(crate) const CONVENTIONAL: &[(&str, &str)] = &[
    ("ENVIRONMENT", "app.env"),
    ("DEBUG", "app.debug"),
    ("JWT_SECRET_KEY", "auth.jwt_secret"),
    ("JWT_ALGORITHM", "auth.jwt_algorithm"),
    ("JWT_ACCESS_TOKEN_EXPIRE_DAYS", "auth.token_days"),
    ("COOKIE_NAME", "http.cookie.name"),
    ("COOKIE_SECURE", "http.cookie.secure"),
    ("COOKIE_SAMESITE", "http.cookie.same_site"),
    ("COOKIE_DOMAIN", "http.cookie.domain"),
    ("DATABASE_URL", "database.database_url"),
    ("DATABASE_MIGRATION_URL", "database.migration_url"),
    ("REDIS_URL", "cache.redis_url"),
    ("JWT_SECRET", "auth.jwt_secret"),
    ("OPENAI_API_KEY", "llm.openai.api_key"),
    ("OPENAI_BASE_URL", "llm.openai.base_url"),
    ("GEMINI_API_KEY", "llm.gemini.api_key"),
    ("GEMINI_BASE_URL", "llm.gemini.base_url"),
    ("METRICS_TOKEN", "http.metrics_token"),
    ("METRICS_LISTEN", "metrics.listen"),
    ("HOST", "server.host"),
    ("PORT", "server.port"),
];

/// The first key of `given` (dotted) that `known` does not have. Below a key whose known
/// value is not a table with fields (a map such as `llm.fallbacks`, a list, a scalar or an
/// unset option), anything is accepted: its own deserialisation checks it.
fn unknown_key(
    known: &serde_json::Value,
    given: &serde_json::Value,
    prefix: &str,
) -> Option<String> {
    let (Some(known), Some(given)) = (known.as_object(), given.as_object()) else {
        return None;
    };
    if known.is_empty() {
        return None;
    }
    given.iter().find_map(|(key, value)| {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match known.get(key) {
            None => Some(path),
            Some(known) => unknown_key(known, value, &path),
        }
    })
}

/// The reference's documented placeholder secret, refused at start-up.
const REFERENCE_PLACEHOLDER: &str = "CHANGE-THIS-IN-PRODUCTION-USE-SECRETS-TOKEN";

impl Settings {
    /// Loads the layers from `env` (the process environment in production, a map in tests).
    ///
    /// # Errors
    /// [`SettingsError`] naming the key that could not be read, or the rule broken.
    pub fn load(env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let error = |e: config::ConfigError| SettingsError(e.to_string());
        let (file, required) = match env.get("LIA_CONFIG") {
            Some(path) => (path.clone(), true),
            None => ("lia.toml".to_owned(), false),
        };
        let lia_env: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("LIA__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut builder = config::Config::builder()
            .add_source(config::Config::try_from(&Self::default()).map_err(error)?)
            .add_source(config::File::new(&file, config::FileFormat::Toml).required(required))
            .add_source(
                config::Environment::with_prefix("LIA")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("http.cors_origins")
                    .source(Some(lia_env)),
            );
        for (name, key) in CONVENTIONAL {
            let value = env
                .get(*name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| match *name {
                    "ENVIRONMENT" | "DEBUG" | "COOKIE_SECURE" | "COOKIE_SAMESITE" => {
                        v.trim().to_lowercase()
                    }
                    _ => v.clone(),
                });
            builder = builder.set_override_option(*key, value).map_err(error)?;
        }
        if let Some(origins) = env.get("CORS_ORIGINS").filter(|v| !v.trim().is_empty()) {
            let origins: Vec<String> = origins
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect();
            builder = builder
                .set_override("http.cors_origins", origins)
                .map_err(error)?;
        }
        let built = builder.build().map_err(error)?;
        // A typo must not fall back to a default silently: every key must be one we read.
        let merged: serde_json::Value = built.clone().try_deserialize().map_err(error)?;
        let known = serde_json::to_value(Self::default())
            .map_err(|e| SettingsError(format!("settings: {e}")))?;
        if let Some(key) = unknown_key(&known, &merged, "") {
            let variable = format!("LIA__{}", key.replace('.', "__").to_uppercase());
            let origin = if env.contains_key(&variable) {
                format!("the environment variable {variable}")
            } else {
                format!("the file {file}")
            };
            return Err(SettingsError(format!(
                "unknown setting {key} (from {origin}): check its spelling against `lia-server --print-config`"
            )));
        }
        let mut settings: Self = built.try_deserialize().map_err(error)?;
        settings.validate()?;
        settings.apply_environment_defaults();
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        self.validate_secret()?;
        if self.http.cors_origins.iter().any(|o| o.trim() == "*") {
            return Err(SettingsError("http.cors_origins (CORS_ORIGINS) must list origins: `*` cannot be used with credentials".into()));
        }
        if !(1..=30).contains(&self.auth.token_days) {
            return Err(SettingsError(
                "auth.token_days must be between 1 and 30".into(),
            ));
        }
        if self.http.body_limit_bytes == 0 {
            return Err(SettingsError(
                "http.body_limit_bytes must be positive".into(),
            ));
        }
        if self.cache.key_prefix.contains(['{', '}']) {
            // A brace would become every key's Redis Cluster hash tag: one slot for all.
            return Err(SettingsError(
                "cache.key_prefix must not contain { or }: keys carry their own hash tags".into(),
            ));
        }
        lia_api::TrustedProxies::parse(&self.http.trusted_proxies)
            .map_err(|problem| SettingsError(format!("http.trusted_proxies: {problem}")))?;
        if let Some(listen) = &self.metrics.listen {
            listen.parse::<std::net::SocketAddr>().map_err(|_| {
                SettingsError(format!(
                    "metrics.listen (METRICS_LISTEN) must be an address such as 127.0.0.1:9100, not {listen:?}"
                ))
            })?;
        }
        if self
            .http
            .metrics_token
            .as_ref()
            .is_some_and(|token| token.expose().len() < 16)
        {
            return Err(SettingsError(
                "http.metrics_token (METRICS_TOKEN) must be at least 16 characters".into(),
            ));
        }
        self.validate_fallbacks()?;
        if self.app.env == Environment::Production {
            self.validate_production()?;
        }
        Ok(())
    }

    /// Every chain is keyed by a provider (or `provider:model`) and lists `provider:model`
    /// targets of known providers with well-formed model names.
    fn validate_fallbacks(&self) -> Result<(), SettingsError> {
        const PROVIDERS: [&str; 3] = ["openai", "gemini", "local"];
        for (key, chain) in &self.llm.fallbacks {
            let provider = key.split_once(':').map_or(key.as_str(), |(p, _)| p);
            if !PROVIDERS.contains(&provider) {
                return Err(SettingsError(format!(
                    "llm.fallbacks: {key:?} must be a provider (openai, gemini, local) or provider:model"
                )));
            }
            for entry in chain {
                let target = lia_llm::Target::parse(entry)
                    .filter(|t| PROVIDERS.contains(&t.provider.as_str()))
                    .filter(|t| lia_llm::model_name::problem(&t.model).is_none());
                if target.is_none() {
                    return Err(SettingsError(format!(
                        "llm.fallbacks.{key:?}: {entry:?} must be provider:model with a provider among openai, gemini, local"
                    )));
                }
            }
        }
        Ok(())
    }

    fn validate_secret(&self) -> Result<(), SettingsError> {
        let secret = self
            .auth
            .jwt_secret
            .as_ref()
            .map(lia_domain::Secret::expose);
        let secret_len = secret.map_or(0, str::len);
        if self.app.env == Environment::Production
            && secret_len < lia_auth::TokenService::MIN_SECRET_LEN
        {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) must be set to at least 32 characters in production"
                    .into(),
            ));
        }
        if secret == Some(REFERENCE_PLACEHOLDER) {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) is the published placeholder; set a real secret"
                    .into(),
            ));
        }
        if secret.is_some() && secret_len < lia_auth::TokenService::MIN_SECRET_LEN {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) must be at least 32 characters".into(),
            ));
        }
        Ok(())
    }

    /// What production adds: operations endpoints are protected, and no provider in the
    /// catalogue is silently answered by the offline engine.
    fn validate_production(&self) -> Result<(), SettingsError> {
        if self.http.metrics_token.is_none() && self.metrics.listen.is_none() {
            return Err(SettingsError(
                "/metrics is unprotected: in production set http.metrics_token (METRICS_TOKEN) or serve it on its own listener with metrics.listen (METRICS_LISTEN)".into(),
            ));
        }
        if self.llm.unconfigured_to_local != Some(true) {
            let providers = [
                (
                    "openai",
                    "llm.openai.api_key (OPENAI_API_KEY)",
                    self.llm.openai.is_configured(),
                    &self.llm.openai.models,
                ),
                (
                    "gemini",
                    "llm.gemini.api_key (GEMINI_API_KEY)",
                    self.llm.gemini.is_configured(),
                    &self.llm.gemini.models,
                ),
            ];
            for (name, key, configured, models) in providers {
                if !configured && !models.is_empty() {
                    return Err(SettingsError(format!(
                        "{key} is not set, but the model catalogue offers {name}: set the key, or set llm.{name}.models = [] to offer none of its models"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Applies the environment's defaults to the settings left unset.
    fn apply_environment_defaults(&mut self) {
        self.http.debug = self.app.debug;
        self.http.environment = serde_json::to_value(self.app.env)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "development".into());
        if self.llm.unconfigured_to_local.is_none() {
            self.llm.unconfigured_to_local = Some(self.app.env != Environment::Production);
        }
    }

    /// The effective settings as JSON, for `--print-config` and the start-up log. Every
    /// secret (keys, tokens, URL passwords) is held in a type that serializes as a mask, so
    /// nothing here needs to know which fields are secret.
    #[must_use]
    pub fn masked(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_pooler_and_the_migration_url_are_read() {
        let settings = Settings::load(&env(&[
            ("DATABASE_URL", "postgres://lia@pgbouncer:6432/lia"),
            ("DATABASE_MIGRATION_URL", "postgres://lia@db:5432/lia"),
            ("LIA__DATABASE__POOLER", "transaction"),
        ]))
        .unwrap();
        assert_eq!(settings.database.pooler, lia_store::Pooler::Transaction);
        assert_eq!(
            settings.database.migration_url.unwrap().expose(),
            "postgres://lia@db:5432/lia"
        );
        let error = Settings::load(&env(&[("LIA__DATABASE__POOLER", "statement")])).unwrap_err();
        assert!(error.to_string().contains("pooler"), "{error}");
    }

    #[test]
    fn a_key_prefix_with_a_hash_tag_is_refused() {
        let error =
            Settings::load(&env(&[("LIA__CACHE__KEY_PREFIX", "lia:{shard}:")])).unwrap_err();
        assert!(error.to_string().contains("cache.key_prefix"), "{error}");
        assert!(Settings::load(&env(&[("LIA__CACHE__KEY_PREFIX", "lia:v2:")])).is_ok());
    }

    #[test]
    fn defaults_need_nothing() {
        let settings = Settings::load(&env(&[])).unwrap();
        assert_eq!(
            (settings.server.host.as_str(), settings.server.port),
            ("127.0.0.1", 8000)
        );
        assert_eq!(settings.database.url(), "sqlite://lia.db?mode=rwc");
        assert_eq!(settings.cache.redis_url, None);
    }

    #[test]
    fn environment_overrides_defaults_and_conventional_names_override_both() {
        let settings = Settings::load(&env(&[
            ("LIA__SERVER__PORT", "9000"),
            ("LIA__RATE_LIMITS__CHAT_PER_WINDOW", "5"),
            ("LIA__HTTP__COOKIE__SECURE", "false"),
            ("PORT", "9100"),
            ("DATABASE_URL", "postgres://lia:pw@db/lia"),
            ("CORS_ORIGINS", "https://a.example, https://b.example"),
            ("OPENAI_API_KEY", "sk-secret"),
        ]))
        .unwrap();
        assert_eq!(settings.server.port, 9100);
        assert_eq!(settings.rate_limits.chat_per_window, 5);
        assert!(!settings.http.cookie.secure);
        assert_eq!(
            settings.http.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        let masked = settings.masked().to_string();
        assert!(masked.contains("postgres://lia:***@db/lia"));
        assert!(!masked.contains("sk-secret") && !masked.contains(":pw@"));
    }

    #[test]
    fn the_reference_services_variable_names_are_read() {
        let secret = "s".repeat(40);
        let settings = Settings::load(&env(&[
            ("JWT_SECRET_KEY", &secret),
            ("ENVIRONMENT", "Production"),
            ("DEBUG", "False"),
            ("COOKIE_SECURE", "false"),
            ("JWT_ACCESS_TOKEN_EXPIRE_DAYS", "3"),
            ("METRICS_LISTEN", "127.0.0.1:9100"),
            ("OPENAI_API_KEY", "sk-test"),
            ("GEMINI_API_KEY", "g-test"),
        ]))
        .unwrap();
        assert_eq!(
            settings
                .auth
                .jwt_secret
                .as_ref()
                .map(lia_domain::Secret::expose),
            Some(secret.as_str())
        );
        assert_eq!(
            (settings.app.env, settings.app.debug),
            (Environment::Production, false)
        );
        assert!(!settings.http.cookie.secure);
        assert_eq!(settings.auth.token_days, 3);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let error = Settings::load(&env(&[("LIA__SERVER__PORT", "not-a-port")])).unwrap_err();
        assert!(error.to_string().contains("server.port"), "{error}");
        let error = Settings::load(&env(&[("LIA__APP__ENV", "production")])).unwrap_err();
        assert!(error.to_string().contains("jwt_secret"), "{error}");
        let error = Settings::load(&env(&[("CORS_ORIGINS", "*")])).unwrap_err();
        assert!(error.to_string().contains("cors_origins"), "{error}");
        let error = Settings::load(&env(&[("JWT_SECRET", REFERENCE_PLACEHOLDER)])).unwrap_err();
        assert!(error.to_string().contains("placeholder"), "{error}");
        let error =
            Settings::load(&env(&[("LIA__HTTP__TRUSTED_PROXIES", "10.0.0.0/33")])).unwrap_err();
        assert!(error.to_string().contains("trusted_proxies"), "{error}");
        let error = Settings::load(&env(&[("METRICS_LISTEN", "localhost")])).unwrap_err();
        assert!(error.to_string().contains("metrics.listen"), "{error}");
    }

    /// A production environment with every provider configured and metrics protected.
    fn production(extra: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let secret = "x".repeat(40);
        let mut pairs = vec![
            ("LIA__APP__ENV", "production"),
            ("JWT_SECRET", secret.as_str()),
            ("METRICS_TOKEN", "metrics-token-0123456789"),
            ("OPENAI_API_KEY", "sk-test"),
            ("GEMINI_API_KEY", "g-test"),
        ];
        for (name, value) in extra {
            pairs.retain(|(existing, _)| existing != name);
            pairs.push((name, value));
        }
        Settings::load(&env(&pairs))
    }

    #[test]
    fn unknown_keys_are_refused_naming_the_key_and_where_it_came_from() {
        let env = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let error = Settings::load(&env(&[("LIA__QUOTAS__DAILY_TOKEN", "5")])).unwrap_err();
        assert!(
            error.to_string().contains("quotas.daily_token")
                && error.to_string().contains("LIA__QUOTAS__DAILY_TOKEN"),
            "{error}"
        );
        let error = Settings::load(&env(&[("LIA__SERVR__PORT", "1")])).unwrap_err();
        assert!(error.to_string().contains("servr"), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lia.toml");
        std::fs::write(&path, "[llm]\nfirst_token_timout_ms = 5\n").unwrap();
        let error = Settings::load(&env(&[("LIA_CONFIG", path.to_str().unwrap())])).unwrap_err();
        assert!(
            error.to_string().contains("llm.first_token_timout_ms")
                && error.to_string().contains("lia.toml"),
            "{error}"
        );
        // Known keys, maps with free keys, and the conventional names still load.
        std::fs::write(
            &path,
            "[llm.fallbacks]\n\"openai:gpt-4o\" = [\"local:lia-local\"]\n[quotas]\ndaily_tokens = 10\n",
        )
        .unwrap();
        let settings = Settings::load(&env(&[
            ("LIA_CONFIG", path.to_str().unwrap()),
            ("LIA__CHAT__MAX_ACTIVE_TURNS_PER_USER", "7"),
            ("PORT", "9001"),
        ]))
        .unwrap();
        assert_eq!(settings.quotas.daily_tokens, 10);
        assert_eq!(settings.chat.turns.max_active_turns_per_user, 7);
        assert_eq!(settings.llm.fallbacks.len(), 1);
    }

    #[test]
    fn fallback_chains_must_name_known_providers_and_models() {
        let mut settings = Settings::default();
        settings.llm.fallbacks.insert(
            "openai:gpt-4o".into(),
            vec!["gemini:gemini-2.5-flash".into(), "local:lia-local".into()],
        );
        assert!(settings.validate().is_ok());
        for (key, entry) in [
            ("mistral", "local:lia-local"),
            ("openai", "gemini"),
            ("openai", "nope:x"),
            ("openai", "gemini:../x"),
        ] {
            let mut settings = Settings::default();
            settings
                .llm
                .fallbacks
                .insert(key.into(), vec![entry.into()]);
            let error = settings.validate().unwrap_err();
            assert!(
                error.to_string().contains("llm.fallbacks"),
                "{key} {entry}: {error}"
            );
        }
    }

    #[test]
    fn production_refuses_unprotected_metrics() {
        assert!(production(&[]).is_ok());
        let error = production(&[("METRICS_TOKEN", "")]).unwrap_err();
        assert!(
            error.to_string().contains("metrics_token")
                && error.to_string().contains("metrics.listen"),
            "{error}"
        );
        assert!(production(&[("METRICS_TOKEN", ""), ("METRICS_LISTEN", "127.0.0.1:9100")]).is_ok());
        let error = production(&[("METRICS_TOKEN", "short")]).unwrap_err();
        assert!(error.to_string().contains("at least 16"), "{error}");
    }

    #[test]
    fn production_names_the_missing_provider_key_instead_of_answering_offline() {
        let error = production(&[("OPENAI_API_KEY", "")]).unwrap_err();
        assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
        let error = production(&[("GEMINI_API_KEY", "")]).unwrap_err();
        assert!(error.to_string().contains("GEMINI_API_KEY"), "{error}");
        // Offering none of a provider's models, or a compatible server of one's own, is fine.
        let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
        std::fs::write(file.path(), "[llm.gemini]\nmodels = []\n").unwrap();
        let path = file.path().display().to_string();
        let offered_none = production(&[("GEMINI_API_KEY", ""), ("LIA_CONFIG", &path)]);
        assert!(offered_none.is_ok(), "{offered_none:?}");
        assert!(offered_none.unwrap().llm.gemini.models.is_empty());
        assert!(
            production(&[
                ("OPENAI_API_KEY", ""),
                ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
            ])
            .is_ok()
        );
        let settings = production(&[]).unwrap();
        assert_eq!(settings.llm.unconfigured_to_local, Some(false));
        // An explicit choice stands (a demo deployment), and development keeps the fallback.
        assert!(
            production(&[
                ("OPENAI_API_KEY", ""),
                ("LIA__LLM__UNCONFIGURED_TO_LOCAL", "true")
            ])
            .is_ok()
        );
        let development = Settings::load(&env(&[])).unwrap();
        assert_eq!(development.llm.unconfigured_to_local, Some(true));
    }

    #[test]
    fn debug_and_printed_settings_hold_no_secret_value() {
        let secrets = [
            "jwt-secret-value-0123456789abcdefghij",
            "metrics-token-value-0123",
            "sk-openai-key-value",
            "gemini-key-value",
            "google-nl-key-value",
            "pg-pass@word",
            "redis-pass-value",
        ];
        let settings = Settings::load(&env(&[
            ("JWT_SECRET", secrets[0]),
            ("METRICS_TOKEN", secrets[1]),
            ("OPENAI_API_KEY", secrets[2]),
            ("GEMINI_API_KEY", secrets[3]),
            ("LIA__SENTIMENT__GOOGLE_API_KEY", secrets[4]),
            ("DATABASE_URL", "postgres://lia:pg-pass@word@db/lia"),
            ("REDIS_URL", "rediss://default:redis-pass-value@cache:6380"),
        ]))
        .unwrap();
        let debug = format!("{settings:?}");
        let pretty = format!("{settings:#?}");
        let printed = settings.masked().to_string();
        for secret in secrets {
            for (name, text) in [
                ("Debug", &debug),
                ("{:#?}", &pretty),
                ("--print-config", &printed),
            ] {
                assert!(!text.contains(secret), "{name} shows {secret}");
            }
        }
        // The parts are still there, behind their masks.
        assert!(printed.contains("postgres://lia:***@db/lia"), "{printed}");
        assert!(debug.contains("rediss://default:***@cache:6380"), "{debug}");
        assert_eq!(
            settings.llm.openai.api_key.expose(),
            secrets[2],
            "the value itself is kept"
        );
    }
}
