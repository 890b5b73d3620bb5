//! The chat turn (`docs/architecture.md`, "The chat turn"): store the user message with the
//! turn's durable record and read the context in one transaction, then generate in a tracked
//! task that runs independently of the HTTP connection. Events go to the turn's in-memory
//! log, which followers here read; a flusher copies it to the stream buffer in batches, for
//! followers on other instances and for replay.

mod keeper;
mod recovery;
mod request;
mod run;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use lia_domain::clock::Clock;
use lia_domain::ports::{
    EventStream, FinishOutcome, FinishedTurn, HistoryCache, Lease, NewTurn, StreamBuffer,
    TurnLeases, UsageRepository, UsageRow,
};
use lia_domain::{
    ConversationId, ConversationRepository, MessageId, MessageText, RepositoryError, UserId,
};
use lia_llm::{GenerationSettings, ProviderRegistry};
use lia_sentiment::{SentimentMethod, SentimentService};
use serde::{Deserialize, Serialize};

use crate::config::ChatConfig;
use crate::error::ChatError;
use crate::events::TurnEvent;
use crate::live::{FlushPolicy, LiveTurns};
use crate::tasks::TaskTracker;

/// A validated request for one turn.
#[derive(Debug, Clone)]
pub struct TurnRequest {
    /// The user.
    pub user_id: UserId,
    /// Their message.
    pub text: MessageText,
    /// An existing conversation of theirs, or `None` for a new one.
    pub conversation_id: Option<ConversationId>,
    /// The provider name.
    pub provider: String,
    /// The model id, passed as given.
    pub model: String,
    /// How the message's sentiment is computed.
    pub sentiment_method: SentimentMethod,
    /// Sampling settings.
    pub settings: GenerationSettings,
}

/// What the durable record keeps of a request besides its ids, for a continuation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RecordedRequest {
    pub(crate) sentiment_method: String,
    pub(crate) settings: GenerationSettings,
}

/// A started turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedTurn {
    /// The id to follow, re-attach to and stop the turn by.
    pub stream_id: String,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The stored user message.
    pub message_id: MessageId,
    /// The user's budget as the turn was admitted, when a quota applies.
    pub quota: Option<crate::quota::QuotaStatus>,
}

/// Counters for metrics.
#[derive(Debug, Default)]
pub struct ChatCounters {
    /// Turns started.
    pub started: AtomicU64,
    /// Turns that ended with a provider error.
    pub failed: AtomicU64,
}

/// The chat application service.
#[derive(Clone)]
pub struct ChatService {
    inner: Arc<Inner>,
}

struct Inner {
    repository: Arc<dyn ConversationRepository>,
    cache: Arc<dyn HistoryCache>,
    buffer: Arc<dyn StreamBuffer>,
    leases: Arc<dyn TurnLeases>,
    llm: Arc<ProviderRegistry>,
    sentiment: Arc<SentimentService>,
    tracker: TaskTracker,
    live: LiveTurns,
    flush_policy: FlushPolicy,
    config: ChatConfig,
    counters: ChatCounters,
    usage: crate::usage::UsageMeter,
    ledger: Arc<dyn UsageRepository>,
    quotas: crate::quota::QuotaConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ChatService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Everything the chat service is built from.
pub struct ChatDependencies {
    /// Conversations and messages.
    pub repository: Arc<dyn ConversationRepository>,
    /// The history cache, invalidated by each turn (which moves its conversation to the top;
    /// the generation bump also voids the owner's cached detail pages).
    pub cache: Arc<dyn HistoryCache>,
    /// The durable, cross-instance copy of every turn's events.
    pub buffer: Arc<dyn StreamBuffer>,
    /// Leases on active turns: the per-user cap across instances, and recovery.
    pub leases: Arc<dyn TurnLeases>,
    /// The LLM providers.
    pub llm: Arc<ProviderRegistry>,
    /// Sentiment strategies.
    pub sentiment: Arc<SentimentService>,
    /// Where generation tasks run.
    pub tracker: TaskTracker,
    /// The usage ledger (written with each reply) and quota overrides.
    pub usage: Arc<dyn UsageRepository>,
    /// The default daily budget.
    pub quotas: crate::quota::QuotaConfig,
    /// Wall-clock time: the day usage is counted on and quotas reset.
    pub clock: Arc<dyn Clock>,
}

impl ChatService {
    /// The service over `dependencies`. Starts, on the tracker's runtime, listening for stop
    /// requests pushed through the stream buffer, and the lease keeper (renewals, and the
    /// recovery of turns whose instance died).
    #[must_use]
    pub fn new(dependencies: ChatDependencies, config: ChatConfig) -> Self {
        let ChatDependencies {
            repository,
            cache,
            buffer,
            leases,
            llm,
            sentiment,
            tracker,
            usage,
            quotas,
            clock,
        } = dependencies;
        let service = Self {
            inner: Arc::new(Inner {
                repository,
                cache,
                buffer,
                leases,
                llm,
                sentiment,
                tracker,
                live: LiveTurns::default(),
                flush_policy: FlushPolicy::default(),
                config,
                counters: ChatCounters::default(),
                usage: crate::usage::UsageMeter::default(),
                ledger: usage,
                quotas,
                clock,
            }),
        };
        service.listen_for_stops();
        keeper::start(&service);
        service
    }

    /// Stops requested through any instance arrive by push; those for turns generating here
    /// stop them (the requester already checked the owner).
    fn listen_for_stops(&self) {
        let mut requests = self.inner.buffer.stop_requests();
        let live = self.inner.live.clone();
        let shutdown = self.inner.tracker.shutdown_token().clone();
        self.inner.tracker.spawn_loop("stop_listener", async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok::<(), String>(()),
                    request = requests.next() => match request {
                        Some(stream_id) => {
                            live.stop(&stream_id, None);
                        }
                        None => return Ok(()),
                    },
                }
            }
        });
    }

    /// The provider registry (for validation at the edge).
    #[must_use]
    pub fn llm(&self) -> &ProviderRegistry {
        &self.inner.llm
    }

    /// Turns generating now.
    #[must_use]
    pub fn active_turns(&self) -> usize {
        self.inner.live.generating()
    }

    /// Turn counters.
    #[must_use]
    pub fn counters(&self) -> &ChatCounters {
        &self.inner.counters
    }

    /// The user's budget today, or `None` when no quota applies to them.
    ///
    /// # Errors
    /// [`ChatError::Repository`] when the ledger cannot be read.
    pub async fn quota(
        &self,
        user_id: UserId,
    ) -> Result<Option<crate::quota::QuotaStatus>, ChatError> {
        let inner = &self.inner;
        let limit = match inner.ledger.quota_override(user_id).await? {
            Some(own) => own,
            None => inner.quotas.daily_tokens,
        };
        if limit == 0 {
            return Ok(None);
        }
        let now = inner.clock.now();
        let spent = inner.ledger.tokens_spent(user_id, now.date()).await?;
        Ok(Some(crate::quota::QuotaStatus::new(limit, spent, now)))
    }

    /// The user's ledger rows from `from` to `to` (UTC days, inclusive).
    ///
    /// # Errors
    /// [`ChatError::Repository`] when the ledger cannot be read.
    pub async fn usage_between(
        &self,
        user_id: UserId,
        from: time::Date,
        to: time::Date,
    ) -> Result<Vec<UsageRow>, ChatError> {
        Ok(self.inner.ledger.usage(user_id, from, to).await?)
    }

    /// Today, by the service's clock (UTC).
    #[must_use]
    pub fn today(&self) -> time::Date {
        self.inner.clock.now().date()
    }

    /// Tokens consumed by stored replies, for metrics.
    #[must_use]
    pub fn usage(&self) -> &crate::usage::UsageMeter {
        &self.inner.usage
    }

    /// The task tracker (for draining at shutdown and the failure metric).
    #[must_use]
    pub fn tracker(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    /// Stores the user's message and starts generating in the background.
    ///
    /// # Errors
    /// [`ChatError::TooManyActiveTurns`], [`ChatError::UnknownProvider`],
    /// [`ChatError::NotFound`] for another user's or a missing conversation, storage errors.
    pub async fn start(&self, request: TurnRequest) -> Result<StartedTurn, ChatError> {
        let inner = &self.inner;
        if inner.tracker.shutdown_token().is_cancelled() {
            return Err(ChatError::ShuttingDown);
        }
        let provider = inner
            .llm
            .provider(&request.provider)
            .map_err(|_| ChatError::UnknownProvider(request.provider.clone()))?;
        // Checked before anything is stored or the provider is called.
        let quota = self.quota(request.user_id).await?;
        if let Some(status) = quota
            && status.exhausted()
        {
            return Err(ChatError::QuotaExceeded(status));
        }
        let stream_id = format!("{}-{}", request.user_id, uuid::Uuid::new_v4().simple());
        let registration = inner
            .live
            .register(
                request.user_id,
                &stream_id,
                inner.config.max_active_turns_per_user,
            )
            .ok_or(ChatError::TooManyActiveTurns)?;
        let lease = Lease {
            user_id: request.user_id,
            stream_id: stream_id.clone(),
        };
        match inner
            .leases
            .acquire(&lease, inner.config.max_active_turns_per_user)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Err(ChatError::TooManyActiveTurns),
            // The cap holds per instance meanwhile; the keeper renews (re-creates) the lease
            // once the store answers again.
            Err(error) => tracing::warn!(%error, "turn leases unavailable; per-instance cap only"),
        }
        let recorded = RecordedRequest {
            sentiment_method: request.sentiment_method.as_str().to_owned(),
            settings: request.settings,
        };
        let turn = inner
            .repository
            .start_turn(NewTurn {
                user_id: request.user_id,
                conversation_id: request.conversation_id,
                content: request.text.clone(),
                context_limit: inner.config.context_messages,
                stream_id: stream_id.clone(),
                provider: provider.name().to_owned(),
                model: request.model.clone(),
                request: serde_json::to_string(&recorded).unwrap_or_else(|_| "{}".to_owned()),
            })
            .await;
        let turn = match turn {
            Ok(turn) => turn,
            Err(error) => {
                let _ = inner.leases.release(&lease).await;
                return Err(error.into());
            }
        };
        let conversation_id = turn.conversation.id;
        // The sidebar shows (or moves) this conversation at once. Invalidating the history
        // bumps the owner's generation, which also drops their cached detail pages.
        inner.cache.invalidate_history(request.user_id).await;

        // With somewhere to fail over to, `start` waits for the provider that answers.
        let defer_start = inner.llm.has_fallbacks(&request.provider, &request.model);
        if !defer_start {
            registration.log.push(&TurnEvent::Start {
                conversation_id,
                message_id: turn.user_message_id,
                stream_id: stream_id.clone(),
                provider: provider.name().to_owned(),
                model: request.model.clone(),
            });
        }
        inner.counters.started.fetch_add(1, Ordering::Relaxed);
        let started = StartedTurn {
            stream_id: stream_id.clone(),
            conversation_id,
            message_id: turn.user_message_id,
            quota,
        };
        let llm_request = request::chat_request(
            inner.config.system_prompt.as_deref(),
            &turn.context,
            &request,
        );
        let generation = run::Generation {
            service: self.clone(),
            request,
            llm_request,
            provider_name: provider.name().to_owned(),
            stream_id,
            conversation_id,
            user_message_id: turn.user_message_id,
            start_state: turn.conversation.sentiment_state.clone(),
            announced: std::sync::atomic::AtomicBool::new(!defer_start),
            sentiment_spend: lia_sentiment::Spend::default(),
        };
        // A child of the caller's span (the HTTP request's, with its request id), so every
        // line the turn logs after the response started carries both ids.
        let span = tracing::info_span!(
            "chat_turn",
            stream_id = %started.stream_id,
            conversation_id = %conversation_id
        );
        inner.tracker.spawn(
            "chat_turn",
            tracing::Instrument::instrument(generation.run(registration), span),
        );
        Ok(started)
    }

    /// Every event of `user`'s stream after `after`, then live events until it ends.
    ///
    /// # Errors
    /// [`ChatError::NotFound`] for an unknown, expired or someone else's stream.
    pub async fn follow(
        &self,
        user_id: UserId,
        stream_id: &str,
        after: u64,
    ) -> Result<EventStream, ChatError> {
        if !owned_by(stream_id, user_id) {
            return Err(ChatError::NotFound);
        }
        // A turn generating (or still flushing) here is read from memory.
        if let Some(log) = self.inner.live.log(stream_id) {
            return Ok(log.follow(after));
        }
        Ok(self.inner.buffer.follow(stream_id, after).await?)
    }

    /// Stops `user`'s turn; its partial reply is stored with finish reason `stopped`. A turn
    /// generating on another server instance is asked through the stream buffer, which
    /// pushes the request to every instance.
    ///
    /// # Errors
    /// [`ChatError::NotFound`] when no such stream of theirs exists.
    pub async fn stop(&self, user_id: UserId, stream_id: &str) -> Result<(), ChatError> {
        if !owned_by(stream_id, user_id) {
            return Err(ChatError::NotFound);
        }
        if self.inner.live.stop(stream_id, Some(user_id)) {
            return Ok(());
        }
        Ok(self.inner.buffer.request_stop(stream_id).await?)
    }

    /// Shutdown within `grace`: no new turn starts, service loops end, turns get half of
    /// `grace` to finish on their own, then the rest are asked to wrap up now, storing what
    /// they have with finish reason `interrupted` (and their followers get that final
    /// event). True when every turn finished in time.
    pub async fn shutdown(&self, grace: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + grace;
        let tracker = &self.inner.tracker;
        tracker
            .stop_loops((grace / 10).min(std::time::Duration::from_secs(1)))
            .await;
        let first_half =
            (deadline - grace / 2).saturating_duration_since(tokio::time::Instant::now());
        if tracker.drain(first_half).await {
            return true;
        }
        tracing::info!(
            active = self.active_turns(),
            "interrupting the turns still generating"
        );
        self.inner.live.interrupt_all();
        tracker
            .drain(deadline.saturating_duration_since(tokio::time::Instant::now()))
            .await
    }
}

/// Stores a finished turn, retrying with backoff while the database is unavailable (a
/// restart, a failover) for up to `store_retry_ms`. Retrying is safe: the transaction
/// claims the turn's record first, so a commit that did happen is not repeated.
async fn store_finished(
    inner: &Inner,
    turn: FinishedTurn,
) -> Result<FinishOutcome, RepositoryError> {
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_millis(inner.config.store_retry_ms);
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match inner.repository.finish_turn(turn.clone()).await {
            Err(RepositoryError::Unavailable(error))
                if tokio::time::Instant::now() + pause < deadline =>
            {
                tracing::warn!(%error, retry_in_ms = pause.as_millis(), "storing a turn failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// Stream ids start with their owner's id, so ownership is checked without a lookup, on any
/// server instance.
fn owned_by(stream_id: &str, user_id: UserId) -> bool {
    stream_id
        .split_once('-')
        .is_some_and(|(owner, _)| owner == user_id.to_string())
}
