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
    pub jwt_secret: Option<String>,
    /// The JWT algorithm (HS256, HS384, HS512).
    pub jwt_algorithm: JwtAlgorithm,
    /// Token lifetime in days (1..=30).
    pub token_days: u64,
    /// Argon2 parameters.
    pub hashing: HashingConfig,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_algorithm: JwtAlgorithm::HS256,
            token_days: 7,
            hashing: HashingConfig::default(),
        }
    }
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
const CONVENTIONAL: &[(&str, &str)] = &[
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
    ("REDIS_URL", "cache.redis_url"),
    ("JWT_SECRET", "auth.jwt_secret"),
    ("OPENAI_API_KEY", "llm.openai.api_key"),
    ("OPENAI_BASE_URL", "llm.openai.base_url"),
    ("GEMINI_API_KEY", "llm.gemini.api_key"),
    ("GEMINI_BASE_URL", "llm.gemini.base_url"),
    ("HOST", "server.host"),
    ("PORT", "server.port"),
];

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
        let mut settings: Self = builder
            .build()
            .map_err(error)?
            .try_deserialize()
            .map_err(error)?;
        settings.http.debug = settings.app.debug;
        settings.http.environment = serde_json::to_value(settings.app.env)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "development".into());
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let secret_len = self.auth.jwt_secret.as_deref().map_or(0, str::len);
        if self.app.env == Environment::Production
            && secret_len < lia_auth::TokenService::MIN_SECRET_LEN
        {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) must be set to at least 32 characters in production"
                    .into(),
            ));
        }
        if self.auth.jwt_secret.as_deref() == Some(REFERENCE_PLACEHOLDER) {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) is the published placeholder; set a real secret"
                    .into(),
            ));
        }
        if self.auth.jwt_secret.is_some() && secret_len < lia_auth::TokenService::MIN_SECRET_LEN {
            return Err(SettingsError(
                "auth.jwt_secret (JWT_SECRET) must be at least 32 characters".into(),
            ));
        }
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
        Ok(())
    }

    /// The effective settings as JSON with every secret masked, for `--print-config` and the
    /// start-up log.
    #[must_use]
    pub fn masked(&self) -> serde_json::Value {
        let mut copy = self.clone();
        let mask = |value: &mut String| {
            if !value.is_empty() {
                *value = "***".into();
            }
        };
        if let Some(secret) = copy.auth.jwt_secret.as_mut() {
            mask(secret);
        }
        mask(&mut copy.llm.openai.api_key);
        mask(&mut copy.llm.gemini.api_key);
        mask(&mut copy.sentiment.google_api_key);
        if let Some(token) = copy.http.metrics_token.as_mut() {
            mask(token);
        }
        copy.database.database_url = copy
            .database
            .database_url
            .as_deref()
            .map(lia_domain::urls::masked);
        copy.cache.redis_url = copy
            .cache
            .redis_url
            .as_deref()
            .map(lia_domain::urls::masked);
        serde_json::to_value(&copy).unwrap_or_default()
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
        ]))
        .unwrap();
        assert_eq!(settings.auth.jwt_secret.as_deref(), Some(secret.as_str()));
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
        let secret = "x".repeat(40);
        assert!(
            Settings::load(&env(&[
                ("LIA__APP__ENV", "production"),
                ("JWT_SECRET", &secret)
            ]))
            .is_ok()
        );
    }
}
