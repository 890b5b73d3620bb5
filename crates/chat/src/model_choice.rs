//! Which provider and model a turn runs on. An application decision, so it lives here and
//! not in the HTTP handler: the client's choice when it names a provider this server serves
//! and a model it may ask for; otherwise that provider's first advertised model, then the
//! configured default. The edge only turns a refusal into a 422 naming the field.

use crate::ChatService;

/// The provider and model a turn runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelChoice {
    /// The provider's name.
    pub provider: String,
    /// The model's id.
    pub model: String,
}

/// A refused choice: the request field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct ModelChoiceError {
    /// `provider` or `model`.
    pub field: &'static str,
    /// What is wrong with it, as a client-facing phrase.
    pub reason: &'static str,
}

impl ChatService {
    /// The provider and model for a turn that asked for `provider` and `model` (either may be
    /// absent; a blank model counts as absent).
    ///
    /// # Errors
    /// [`ModelChoiceError`] for a provider this server does not serve, or a model name that
    /// is malformed (or, with `llm.strict_models`, not offered by the provider).
    pub fn choose_model(
        &self,
        provider: Option<&str>,
        model: Option<&str>,
    ) -> Result<ModelChoice, ModelChoiceError> {
        let llm = self.llm();
        let provider = provider.unwrap_or_else(|| llm.default_provider());
        if !llm.serves(provider) {
            return Err(ModelChoiceError {
                field: "provider",
                reason: "is not an available provider",
            });
        }
        let model = match model.filter(|m| !m.trim().is_empty()) {
            Some(model) => model.to_owned(),
            None => llm
                .catalogue()
                .get(provider)
                .and_then(|models| models.first())
                .map_or_else(|| llm.default_model().to_owned(), |m| m.id.clone()),
        };
        if let Some(reason) = llm.model_problem(provider, &model) {
            return Err(ModelChoiceError {
                field: "model",
                reason,
            });
        }
        Ok(ModelChoice {
            provider: provider.to_owned(),
            model,
        })
    }
}
