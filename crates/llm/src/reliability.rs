//! Retries and timeouts around any provider.
//!
//! Only transient failures are retried (rate limits, timeouts, unavailability), only before
//! the first event has been received, and only inside an overall deadline: once a token has
//! been yielded, a failure is reported as it is and the caller keeps the partial text.
//! Backoff is tokio-retry's exponential strategy with full jitter and a maximum delay; a
//! provider's `Retry-After` hint replaces the computed delay when it is longer and still fits
//! the deadline.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_retry::RetryIf;
use tokio_retry::strategy::{ExponentialBackoff, jitter};

use crate::error::{LlmError, TimeoutKind};
use crate::provider::LlmProvider;
use crate::types::{ChatRequest, ChatStream, ModelDescriptor, StreamEvent};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first backoff delay; each later one doubles.
    pub base_delay_ms: u64,
    /// The longest backoff delay.
    pub max_delay_ms: u64,
    /// Randomise each delay in [0, delay) so clients do not retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay_ms: 500,
            max_delay_ms: 8_000,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The delays before the second, third, ... attempt.
    fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let with_jitter = self.jitter;
        ExponentialBackoff::from_millis(2)
            .factor(self.base_delay_ms.max(1) / 2)
            .max_delay(Duration::from_millis(self.max_delay_ms))
            .map(move |delay| if with_jitter { jitter(delay) } else { delay })
            .take(self.max_attempts.saturating_sub(1) as usize)
    }
}

/// Time limits for one generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    /// Establishing the connection (applied by the HTTP clients).
    pub connect_ms: u64,
    /// From the start of an attempt to its first event.
    pub first_token_ms: u64,
    /// Longest silence between two events.
    pub idle_ms: u64,
    /// The whole generation, retries and backoff included.
    pub total_ms: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_ms: 10_000,
            first_token_ms: 60_000,
            idle_ms: 30_000,
            total_ms: 300_000,
        }
    }
}

/// Told about every attempt, e.g. to count attempts, retries and outcomes as metrics.
pub trait AttemptObserver: Send + Sync + 'static {
    /// An attempt to open a stream on `provider` ended with `outcome` (`Ok` once it produced a
    /// first event). `attempt` counts from 1.
    fn attempt(&self, provider: &str, attempt: u32, outcome: Result<(), &LlmError>);
}

/// Wraps a provider with the retry policy and the timeouts. It is itself a provider.
pub struct Reliable {
    inner: Arc<dyn LlmProvider>,
    policy: RetryPolicy,
    timeouts: Timeouts,
    observer: Option<Arc<dyn AttemptObserver>>,
}

impl Reliable {
    /// `inner` with `policy` and `timeouts`.
    pub fn new(inner: Arc<dyn LlmProvider>, policy: RetryPolicy, timeouts: Timeouts) -> Self {
        Self {
            inner,
            policy,
            timeouts,
            observer: None,
        }
    }

    /// Reports every attempt to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn AttemptObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
}

type Opened = (Option<Result<StreamEvent, LlmError>>, ChatStream);

#[async_trait]
impl LlmProvider for Reliable {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn models(&self) -> &[ModelDescriptor] {
        self.inner.models()
    }

    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, LlmError> {
        let deadline = Instant::now() + Duration::from_millis(self.timeouts.total_ms);
        let first_token = Duration::from_millis(self.timeouts.first_token_ms);
        let retry_hint = Arc::new(Mutex::new(None::<Duration>));
        let n_attempts = AtomicU32::new(0);

        let action = || async {
            let attempt = n_attempts.fetch_add(1, Ordering::Relaxed) + 1;
            let result = open_until_first_event(self.inner.as_ref(), request, first_token).await;
            if let Some(observer) = &self.observer {
                observer.attempt(self.inner.name(), attempt, result.as_ref().map(|_| ()));
            }
            if let Err(error) = &result {
                tracing::debug!(
                    provider = self.inner.name(),
                    attempt,
                    kind = error.kind(),
                    "attempt failed"
                );
            }
            result
        };
        let hint_for_condition = Arc::clone(&retry_hint);
        let should_retry = move |error: &LlmError| {
            let hint = match error {
                LlmError::RateLimited { retry_after } => *retry_after,
                _ => None,
            };
            let fits = Instant::now() + hint.unwrap_or_default() < deadline;
            if let Ok(mut slot) = hint_for_condition.lock() {
                *slot = hint;
            }
            error.is_transient() && fits
        };
        let strategy = HintedDelays {
            delays: self.policy.delays(),
            hint: retry_hint,
        };
        let opened = timeout_at(deadline, RetryIf::start(strategy, action, should_retry))
            .await
            .map_err(|_| LlmError::Timeout(TimeoutKind::Total))??;
        let idle = Duration::from_millis(self.timeouts.idle_ms);
        Ok(guard_stream(opened, idle, deadline))
    }
}

/// Opens a stream and waits for its first event, so failures that arrive as the first item
/// can still be retried.
async fn open_until_first_event(
    provider: &dyn LlmProvider,
    request: &ChatRequest,
    first_token: Duration,
) -> Result<Opened, LlmError> {
    let opening = async {
        let mut stream = provider.stream(request).await?;
        match stream.next().await {
            Some(Err(error)) => Err(error),
            first => Ok((first, stream)),
        }
    };
    timeout(first_token, opening)
        .await
        .map_err(|_| LlmError::Timeout(TimeoutKind::FirstToken))?
}

/// The backoff delays, each replaced by the provider's `Retry-After` hint when that is longer.
struct HintedDelays<I> {
    delays: I,
    hint: Arc<Mutex<Option<Duration>>>,
}

impl<I: Iterator<Item = Duration>> Iterator for HintedDelays<I> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.delays.next()?;
        let hint = self.hint.lock().ok().and_then(|mut slot| slot.take());
        Some(hint.map_or(delay, |hint| hint.max(delay)))
    }
}

/// Yields the first event, then the rest with the idle and total limits; ends after an error.
fn guard_stream((first, rest): Opened, idle: Duration, deadline: Instant) -> ChatStream {
    struct State {
        pending: Option<Result<StreamEvent, LlmError>>,
        rest: ChatStream,
        finished: bool,
    }
    let state = State {
        pending: first,
        rest,
        finished: false,
    };
    let stream = futures::stream::unfold(state, move |mut state| async move {
        if state.finished {
            return None;
        }
        let item = match state.pending.take() {
            Some(item) => item,
            None => {
                let limit = (Instant::now() + idle).min(deadline);
                match timeout_at(limit, state.rest.next()).await {
                    Ok(Some(item)) => item,
                    Ok(None) => return None,
                    Err(_) if limit == deadline => Err(LlmError::Timeout(TimeoutKind::Total)),
                    Err(_) => Err(LlmError::Timeout(TimeoutKind::Idle)),
                }
            }
        };
        state.finished = item.is_err();
        Some((item, state))
    });
    boxed(stream)
}

fn boxed(stream: impl Stream<Item = Result<StreamEvent, LlmError>> + Send + 'static) -> ChatStream {
    Box::pin(stream)
}
