//! The providers a deployment offers, built from configuration, each wrapped with retries and
//! timeouts; the catalogue of advertised models; and the default provider and model.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tracing::Instrument as _;

use crate::circuit::{CircuitBreaker, CircuitConfig, CircuitState};
use crate::error::LlmError;
use crate::fallback::Target;
use crate::local::{LocalConfig, LocalProvider};
use crate::provider::{LlmProvider, collect};
use crate::providers::gemini::{self, GeminiConfig, GeminiProvider};
use crate::providers::openai::{self, OpenAiConfig, OpenAiProvider};
use crate::reliability::{AttemptObserver, Reliable, RetryPolicy, Timeouts};
use crate::structured;
use crate::types::{ChatRequest, ChatStream, Completion, ModelDescriptor, ResponseFormat};

/// Which providers to offer and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LlmConfig {
    /// The provider used when a request names none.
    pub default_provider: String,
    /// The model used when a request names none.
    pub default_model: String,
    /// Retry policy for every provider.
    pub retry: RetryPolicy,
    /// Timeouts for every provider.
    pub timeouts: Timeouts,
    /// OpenAI or any OpenAI-compatible server; enabled when it has a key or a base URL.
    pub openai: OpenAiConfig,
    /// Gemini; enabled when it has a key.
    pub gemini: GeminiConfig,
    /// The offline provider; always available.
    pub local: LocalConfig,
    /// Serve requests for a known but unconfigured provider (`openai`, `gemini`) with the
    /// offline one, so an unconfigured checkout still chats from the unmodified frontend,
    /// which always names one of those two. Unset: on, except in production, where the
    /// offline provider answers only when asked for by name.
    pub unconfigured_to_local: Option<bool>,
    /// Accept only the models a provider's catalogue lists (otherwise any well-formed name
    /// is passed on, for servers whose models the catalogue does not list).
    pub strict_models: bool,
    /// Fallback chains, keyed by `provider:model` or by `provider`, each a list of
    /// `provider:model` tried in order before the first token (see [`crate::fallback`]).
    pub fallbacks: BTreeMap<String, Vec<String>>,
    /// Fail over when a provider's first event takes longer than this; 0: no limit beyond
    /// the provider timeouts.
    pub first_token_timeout_ms: u64,
    /// Circuit breakers, one per provider.
    pub circuit: CircuitConfig,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            default_provider: "local".into(),
            default_model: "lia-local".into(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            openai: OpenAiConfig::default(),
            gemini: GeminiConfig::default(),
            local: LocalConfig::default(),
            unconfigured_to_local: None,
            strict_models: false,
            fallbacks: BTreeMap::new(),
            first_token_timeout_ms: 0,
            circuit: CircuitConfig::default(),
        }
    }
}

/// The configured providers by name.
#[derive(Clone)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<dyn LlmProvider>>,
    catalogue: BTreeMap<String, Vec<ModelDescriptor>>,
    routes: BTreeMap<String, String>,
    default_provider: String,
    default_model: String,
    strict_models: bool,
    fallbacks: BTreeMap<String, Vec<Target>>,
    first_token_timeout: Option<Duration>,
    circuit: CircuitConfig,
    breakers: BTreeMap<String, Arc<CircuitBreaker>>,
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("routes", &self.routes)
            .field("default_provider", &self.default_provider)
            .finish_non_exhaustive()
    }
}

impl ProviderRegistry {
    /// Builds every enabled provider from `config`, reporting attempts to `observer`.
    ///
    /// # Errors
    /// When an HTTP client cannot be built, or the default provider is not available.
    pub fn from_config(
        config: &LlmConfig,
        observer: Option<Arc<dyn AttemptObserver>>,
    ) -> Result<Self, LlmError> {
        let connect = Duration::from_millis(config.timeouts.connect_ms);
        let mut registry = Self::empty(&config.default_provider, &config.default_model);
        registry.strict_models = config.strict_models;
        registry.circuit = config.circuit;
        registry.first_token_timeout = crate::fallback::millis(config.first_token_timeout_ms);
        for (from, chain) in &config.fallbacks {
            let targets = chain
                .iter()
                .map(|text| {
                    Target::parse(text).ok_or_else(|| {
                        LlmError::InvalidRequest(format!(
                            "llm.fallbacks.{from:?}: {text:?} is not provider:model"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            registry.fallbacks.insert(from.clone(), targets);
        }
        let wrap = |provider: Arc<dyn LlmProvider>| -> Arc<dyn LlmProvider> {
            let reliable = Reliable::new(provider, config.retry, config.timeouts);
            Arc::new(match &observer {
                Some(observer) => reliable.with_observer(Arc::clone(observer)),
                None => reliable,
            })
        };
        registry.insert(wrap(Arc::new(LocalProvider::new(config.local.clone()))));
        if config.openai.is_configured() {
            registry.insert(wrap(Arc::new(OpenAiProvider::new(
                config.openai.clone(),
                connect,
            )?)));
        }
        if config.gemini.is_configured() {
            registry.insert(wrap(Arc::new(GeminiProvider::new(
                config.gemini.clone(),
                connect,
            )?)));
        }
        for (name, models) in [
            ("openai", &config.openai.models),
            ("gemini", &config.gemini.models),
        ] {
            // An empty list offers none of the provider's models: it leaves the catalogue.
            if models.is_empty() {
                continue;
            }
            registry
                .catalogue
                .entry(name.to_owned())
                .or_insert_with(|| models.clone());
            if config.unconfigured_to_local.unwrap_or(true)
                && !registry.providers.contains_key(name)
            {
                registry.routes.insert(name.to_owned(), "local".to_owned());
            }
        }
        registry.provider(&config.default_provider)?;
        Ok(registry)
    }

    /// A registry with no providers, for embedding or tests; add them with [`Self::insert`].
    #[must_use]
    pub fn empty(default_provider: &str, default_model: &str) -> Self {
        Self {
            providers: BTreeMap::new(),
            catalogue: BTreeMap::new(),
            routes: BTreeMap::new(),
            default_provider: default_provider.to_owned(),
            default_model: default_model.to_owned(),
            strict_models: false,
            fallbacks: BTreeMap::new(),
            first_token_timeout: None,
            circuit: CircuitConfig::default(),
            breakers: BTreeMap::new(),
        }
    }

    /// `model` of `provider` followed by its fallback chain (the `provider:model` entry, else
    /// the `provider` one), without repeats.
    #[must_use]
    pub fn targets(&self, provider: &str, model: &str) -> Vec<Target> {
        let first = Target {
            provider: provider.to_owned(),
            model: model.to_owned(),
        };
        let chain = self
            .fallbacks
            .get(&first.to_string())
            .or_else(|| self.fallbacks.get(provider))
            .cloned()
            .unwrap_or_default();
        let mut targets = vec![first];
        for target in chain {
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        targets
    }

    /// Whether a request for `model` of `provider` has somewhere to fail over to.
    #[must_use]
    pub fn has_fallbacks(&self, provider: &str, model: &str) -> bool {
        self.targets(provider, model).len() > 1
    }

    /// The breaker of the provider named `name` (as it names itself).
    pub(crate) fn breaker(&self, name: &str) -> Option<Arc<CircuitBreaker>> {
        self.breakers.get(name).cloned()
    }

    /// The first-token timeout, when one is set.
    pub(crate) fn first_token_timeout(&self) -> Option<Duration> {
        self.first_token_timeout
    }

    /// Every provider's circuit: name, state and consecutive transient failures.
    #[must_use]
    pub fn circuits(&self) -> Vec<(String, CircuitState, u32)> {
        self.breakers
            .iter()
            .map(|(name, breaker)| {
                let (state, failures) = breaker.state();
                (name.clone(), state, failures)
            })
            .collect()
    }

    /// Why `model` may not be asked of `provider`: not a well-formed name (see
    /// [`crate::model_name`]), or, with `strict_models`, not in its catalogue.
    #[must_use]
    pub fn model_problem(&self, provider: &str, model: &str) -> Option<&'static str> {
        crate::model_name::problem(model).or_else(|| {
            (self.strict_models && !self.offers(provider, model))
                .then_some("is not offered by this provider")
        })
    }

    /// Adds (or replaces) a provider under its own name.
    pub fn insert(&mut self, provider: Arc<dyn LlmProvider>) {
        let name = provider.name().to_owned();
        self.catalogue
            .insert(name.clone(), provider.models().to_vec());
        self.routes.remove(&name);
        self.breakers
            .insert(name.clone(), Arc::new(CircuitBreaker::new(self.circuit)));
        self.providers.insert(name, provider);
    }

    /// The provider serving `name`.
    ///
    /// # Errors
    /// [`LlmError::UnknownProvider`] when no provider of that name is configured.
    pub fn provider(&self, name: &str) -> Result<Arc<dyn LlmProvider>, LlmError> {
        let target = self.routes.get(name).map_or(name, String::as_str);
        self.providers
            .get(target)
            .cloned()
            .ok_or_else(|| LlmError::UnknownProvider(name.to_owned()))
    }

    /// Whether `provider`'s catalogue lists `model`.
    #[must_use]
    pub fn offers(&self, provider: &str, model: &str) -> bool {
        self.catalogue
            .get(provider)
            .is_some_and(|models| models.iter().any(|m| m.id == model))
    }

    /// Whether `name` would be served (directly or through the offline fallback).
    #[must_use]
    pub fn serves(&self, name: &str) -> bool {
        self.provider(name).is_ok()
    }

    /// Streams `request` from provider `name`; with structured output the stream carries the
    /// streamed field's text and a final document event (see [`crate::structured`]).
    ///
    /// # Errors
    /// Unknown provider, invalid settings, or the provider's own error.
    pub async fn stream(&self, name: &str, request: &ChatRequest) -> Result<ChatStream, LlmError> {
        request.settings.validate()?;
        let provider = self.provider(name)?;
        let span = crate::telemetry::call_span(provider.name(), request);
        let stream = match provider.stream(request).instrument(span.clone()).await {
            Ok(stream) => crate::telemetry::observed(stream, span),
            Err(error) => {
                span.record("error.type", error.kind());
                return Err(error);
            }
        };
        Ok(match &request.format {
            ResponseFormat::Structured(output) => structured::extract(stream, output),
            ResponseFormat::Text | ResponseFormat::Json => stream,
        })
    }

    /// A whole reply from provider `name`.
    ///
    /// # Errors
    /// As for [`Self::stream`].
    pub async fn complete(
        &self,
        name: &str,
        request: &ChatRequest,
    ) -> Result<Completion, LlmError> {
        collect(self.stream(name, request).await?).await
    }

    /// The advertised models by provider name (for `GET /chat/models`).
    #[must_use]
    pub fn catalogue(&self) -> &BTreeMap<String, Vec<ModelDescriptor>> {
        &self.catalogue
    }

    /// The default provider name.
    #[must_use]
    pub fn default_provider(&self) -> &str {
        &self.default_provider
    }

    /// The default model id.
    #[must_use]
    pub fn default_model(&self) -> &str {
        &self.default_model
    }
}

/// The default catalogue entries, for reference: [`gemini::default_models`] and
/// [`openai::default_models`].
#[must_use]
pub fn default_catalogue() -> BTreeMap<String, Vec<ModelDescriptor>> {
    BTreeMap::from([
        ("gemini".to_owned(), gemini::default_models()),
        ("openai".to_owned(), openai::default_models()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unconfigured_checkouts_route_to_local_and_unknown_names_are_typed_errors() {
        let config = LlmConfig {
            local: LocalConfig {
                pace_ms: 0,
                ..LocalConfig::default()
            },
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config, None).unwrap();
        assert_eq!(registry.provider("gemini").unwrap().name(), "local");
        assert!(
            matches!(registry.provider("anthropic"), Err(LlmError::UnknownProvider(name)) if name == "anthropic")
        );
        assert_eq!(registry.catalogue()["gemini"], gemini::default_models());
        assert_eq!(registry.catalogue()["openai"], openai::default_models());

        let strict = LlmConfig {
            unconfigured_to_local: Some(false),
            ..config
        };
        let registry = ProviderRegistry::from_config(&strict, None).unwrap();
        assert!(matches!(
            registry.provider("openai"),
            Err(LlmError::UnknownProvider(_))
        ));
    }

    #[tokio::test]
    async fn invalid_settings_are_refused_before_any_call() {
        let registry = ProviderRegistry::from_config(&LlmConfig::default(), None).unwrap();
        let mut request = ChatRequest::new("m", vec![]);
        request.settings.temperature = 3.0;
        assert!(matches!(
            registry.stream("local", &request).await,
            Err(LlmError::InvalidRequest(_))
        ));
    }
}
