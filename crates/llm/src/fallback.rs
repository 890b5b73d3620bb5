//! Fallback before the first token: a request goes to its target, then down the target's
//! configured chain (`"openai:gpt-4o" = ["gemini:gemini-2.5-flash", "local:lia-local"]`,
//! or keyed by provider alone), skipping providers whose circuit is open, until one produces
//! its first event. A target fails over when its retries are spent, when it refuses (auth,
//! unknown model, rate limit), or when the first token takes longer than the first-token
//! timeout. Once an event has arrived the stream is the caller's: a failure after that is
//! never retried elsewhere, since a switch mid-answer would change the voice of the reply.

use std::time::Duration;

use futures::StreamExt;

use crate::error::{LlmError, TimeoutKind};
use crate::registry::ProviderRegistry;
use crate::types::{ChatRequest, ChatStream};

/// A provider and model to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The provider name (as configured, or routed).
    pub provider: String,
    /// The model asked of it.
    pub model: String,
}

impl Target {
    /// Parses `provider:model`; `None` when the colon or either side is missing.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let (provider, model) = text.split_once(':')?;
        (!provider.is_empty() && !model.is_empty()).then(|| Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider, self.model)
    }
}

/// A stream that produced its first event, and who produced it.
pub struct Opened {
    /// The whole stream, first event included.
    pub stream: ChatStream,
    /// The provider that serves it (after routing: `local` for an unconfigured one).
    pub provider: String,
    /// The model asked of it.
    pub model: String,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

/// Whether `error`, before any token, is a reason to try the next target rather than the end.
fn fails_over(error: &LlmError) -> bool {
    !matches!(error, LlmError::InvalidRequest(_) | LlmError::Cancelled)
}

impl ProviderRegistry {
    /// Opens `request` (asked of `provider`) on the first target of its chain that produces
    /// an event.
    ///
    /// # Errors
    /// The last target's error when none produced one; the first error that is not worth
    /// failing over for (an invalid request).
    pub async fn open(&self, provider: &str, request: &ChatRequest) -> Result<Opened, LlmError> {
        let mut last = LlmError::UnknownProvider(provider.to_owned());
        for target in self.targets(provider, &request.model) {
            let Ok(serving) = self.provider(&target.provider) else {
                continue;
            };
            let name = serving.name().to_owned();
            let breaker = self.breaker(&name);
            if breaker.as_ref().is_some_and(|b| !b.admit()) {
                last = LlmError::Unavailable(format!("{name}: circuit open"));
                continue;
            }
            // The request as given for its own model; a copy only for another model.
            let attempt = if target.model == request.model {
                std::borrow::Cow::Borrowed(request)
            } else {
                let mut other = request.clone();
                other.model.clone_from(&target.model);
                std::borrow::Cow::Owned(other)
            };
            let outcome = self.first_event(&target.provider, &attempt).await;
            let failed = match &outcome {
                Ok(_) => None,
                Err(error) => Some(error.clone()),
            };
            match failed {
                None => {
                    if let Some(breaker) = &breaker {
                        breaker.succeeded();
                    }
                    let stream = outcome?;
                    return Ok(Opened {
                        stream,
                        provider: name,
                        model: target.model,
                    });
                }
                Some(error) => {
                    if let Some(breaker) = &breaker
                        && error.is_transient()
                    {
                        breaker.failed();
                    }
                    tracing::warn!(target = %target, %error, "provider failed before its first token");
                    if !fails_over(&error) {
                        return Err(error);
                    }
                    last = error;
                }
            }
        }
        Err(last)
    }

    /// The stream of `request` from `provider` once its first event arrived (within the
    /// first-token timeout, when one is set), with that event put back in front.
    async fn first_event(
        &self,
        provider: &str,
        request: &ChatRequest,
    ) -> Result<ChatStream, LlmError> {
        let opening = async {
            let mut stream = self.stream(provider, request).await?;
            match stream.next().await {
                Some(Ok(event)) => {
                    let first = futures::stream::once(async move { Ok(event) });
                    Ok::<ChatStream, LlmError>(Box::pin(first.chain(stream)))
                }
                Some(Err(error)) => Err(error),
                None => Ok(Box::pin(futures::stream::empty()) as ChatStream),
            }
        };
        match self.first_token_timeout() {
            Some(limit) => tokio::time::timeout(limit, opening)
                .await
                .unwrap_or(Err(LlmError::Timeout(TimeoutKind::FirstToken))),
            None => opening.await,
        }
    }
}

/// A non-zero duration in milliseconds, or none.
pub(crate) fn millis(value: u64) -> Option<Duration> {
    (value > 0).then(|| Duration::from_millis(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_provider_colon_model() {
        assert_eq!(
            Target::parse("gemini:gemini-2.5-flash"),
            Some(Target {
                provider: "gemini".into(),
                model: "gemini-2.5-flash".into()
            })
        );
        assert_eq!(
            Target::parse("openai:meta-llama/Llama-3:8b").map(|t| t.model),
            Some("meta-llama/Llama-3:8b".into())
        );
        for bad in ["gemini", ":m", "p:", ""] {
            assert_eq!(Target::parse(bad), None, "{bad}");
        }
    }
}
