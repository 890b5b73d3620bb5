//! One generation, from the provider call to the stored reply: stream from the provider while
//! the message's sentiment is computed alongside, then the cumulative update, then one
//! transaction storing reply and sentiment (retried while the database is unavailable), then
//! the caches, then `sentiment` and `done`. A stop or a shutdown ends the generation at any
//! point, even while the provider call is still opening, and stores what was generated.
//! Events go to the turn's in-memory log; the flusher runs alongside, copying it to the
//! stream buffer.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use lia_domain::ports::{FinishOutcome, FinishedTurn, StoredReply, UsageCharge};
use lia_domain::{
    ConversationId, CumulativeSentiment, FinishReason, MessageId, ModelInfo, RepositoryError,
    SentimentResult, TokenUsage, UsageSource,
};
use lia_llm::{ChatRequest, LlmError, StreamEvent};
use lia_sentiment::{LlmTarget, SentimentMethod, StructuredSentiment};
use tokio::sync::watch;

use super::{ChatService, TurnRequest};
use crate::events::TurnEvent;
use crate::live::{Interruption, LiveLog, Registration, flush};

pub(super) struct Generation {
    pub(super) service: ChatService,
    pub(super) request: TurnRequest,
    pub(super) llm_request: ChatRequest,
    pub(super) provider_name: String,
    pub(super) stream_id: String,
    pub(super) conversation_id: ConversationId,
    pub(super) user_message_id: MessageId,
    /// The conversation's sentiment state when the user message was stored.
    pub(super) start_state: Option<CumulativeSentiment>,
    /// Whether the `start` event is out. With a fallback chain it waits until a provider
    /// has answered (or none could), so it names the one that serves the turn.
    pub(super) announced: std::sync::atomic::AtomicBool,
    /// What the turn's LLM sentiment calls consumed, charged with the reply.
    pub(super) sentiment_spend: lia_sentiment::Spend,
}

/// What the provider produced.
#[derive(Default)]
struct Reply {
    text: String,
    thoughts: Vec<String>,
    finish: Option<FinishReason>,
    error: Option<LlmError>,
    structured: Option<StructuredSentiment>,
    /// As the provider reported it (with the last chunk, so absent on a cut stream).
    usage: Option<lia_llm::Usage>,
    /// The provider and model that answered, when one did.
    served: Option<(String, String)>,
}

impl Generation {
    /// Sends the `start` event once, naming `provider` and `model`.
    fn announce(&self, log: &LiveLog, provider: &str, model: &str) {
        if !self
            .announced
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            log.push(&TurnEvent::Start {
                conversation_id: self.conversation_id,
                message_id: self.user_message_id,
                stream_id: self.stream_id.clone(),
                provider: provider.to_owned(),
                model: model.to_owned(),
            });
        }
    }

    /// Sends the `start` event, if still due, naming the provider first asked.
    fn announce_first_target(&self, log: &LiveLog) {
        self.announce(log, &self.provider_name, &self.request.model);
    }

    /// Runs the turn, with the flusher alongside. Whatever happens inside, even a panic, the
    /// log ends with a last event and is closed, so no follower waits forever; the turn stays
    /// registered (for local followers) until its copy in the stream buffer is complete.
    pub(super) async fn run(self, registration: Registration) -> Result<(), String> {
        let Registration {
            log,
            interruption,
            slot,
            entry,
        } = registration;
        let inner = &self.service.inner;
        let generation = async {
            let outcome = AssertUnwindSafe(self.generate(&log, interruption))
                .catch_unwind()
                .await;
            let outcome = outcome.unwrap_or_else(|_| {
                self.announce_first_target(&log);
                log.push(&TurnEvent::Error {
                    message: "An error occurred processing your request.".into(),
                    kind: "internal".into(),
                });
                Err("the turn panicked".to_owned())
            });
            log.close();
            drop(slot);
            let lease = lia_domain::ports::Lease {
                user_id: self.request.user_id,
                stream_id: self.stream_id.clone(),
            };
            if let Err(error) = inner.leases.release(&lease).await {
                tracing::warn!(%error, "releasing a turn lease failed; it expires");
            }
            outcome
        };
        let flusher = flush(
            &log,
            inner.buffer.as_ref(),
            &self.stream_id,
            inner.flush_policy,
            inner.tracker.shutdown_token(),
        );
        let (outcome, ()) = tokio::join!(generation, flusher);
        drop(entry);
        match &outcome {
            Ok(()) => tracing::info!("turn finished"),
            Err(error) => tracing::info!(%error, "turn finished with an error"),
        }
        outcome
    }

    async fn generate(
        &self,
        log: &LiveLog,
        interruption: watch::Receiver<Interruption>,
    ) -> Result<(), String> {
        let inner = &self.service.inner;
        let target = LlmTarget {
            provider: self.request.provider.clone(),
            model: self.request.model.clone(),
        };
        let method = self.request.sentiment_method;
        let text = self.request.text.as_str();
        let sentiment_timeout = Duration::from_millis(inner.config.sentiment_timeout_ms);
        let per_message = async {
            if method == SentimentMethod::Structured {
                return None;
            }
            let analysis =
                inner
                    .sentiment
                    .analyze_metered(method, text, &target, &self.sentiment_spend);
            let result = tokio::time::timeout(sentiment_timeout, analysis).await;
            Some(result.unwrap_or_else(|_| timed_out_result()))
        };
        let structured = method == SentimentMethod::Structured;
        let (reply, message_result) = tokio::join!(
            stream_reply(self, interruption, structured, log),
            per_message
        );
        let message = match message_result {
            Some(result) => result,
            None => inner
                .sentiment
                .from_structured(reply.structured.as_ref(), &target),
        };
        self.finish(log, reply, message, &target).await
    }

    /// What the turn consumed: the provider's figures when it reported them (a completed
    /// stream), else an estimate of the prompt sent and of what was generated, so a stopped,
    /// failed or interrupted turn still accounts for its cost.
    fn usage(&self, reply: &Reply) -> TokenUsage {
        match reply.usage {
            Some(usage) => TokenUsage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                reasoning_tokens: usage.reasoning_tokens,
                source: UsageSource::Provider,
            },
            None => {
                let reasoning: u32 = reply
                    .thoughts
                    .iter()
                    .map(|t| lia_llm::estimate::tokens(t))
                    .fold(0, u32::saturating_add);
                TokenUsage {
                    prompt_tokens: lia_llm::estimate::prompt_tokens(&self.llm_request.messages),
                    completion_tokens: lia_llm::estimate::tokens(&reply.text)
                        .saturating_add(reasoning),
                    reasoning_tokens: (reasoning > 0).then_some(reasoning),
                    source: UsageSource::Estimated,
                }
            }
        }
    }

    async fn finish(
        &self,
        log: &LiveLog,
        reply: Reply,
        message: SentimentResult,
        target: &LlmTarget,
    ) -> Result<(), String> {
        let inner = &self.service.inner;
        self.announce_first_target(log);
        if let Some(error) = &reply.error {
            inner
                .counters
                .failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(kind = error.kind(), %error, "generation failed");
        }
        let finish = if reply.error.is_some() {
            FinishReason::Error
        } else {
            reply.finish.unwrap_or(FinishReason::Stop)
        };
        let (served_provider, served_model) = reply
            .served
            .clone()
            .unwrap_or_else(|| (self.provider_name.clone(), self.request.model.clone()));
        let stored_reply = (reply.error.is_none() || !reply.text.is_empty()).then(|| StoredReply {
            text: storable(&reply.text),
            model_info: ModelInfo {
                provider: served_provider.clone(),
                model: served_model.clone(),
                thoughts: (!reply.thoughts.is_empty())
                    .then(|| reply.thoughts.iter().map(|t| storable(t)).collect()),
                finish_reason: Some(finish),
                fallback_from: (served_provider != self.request.provider
                    || served_model != self.request.model)
                    .then(|| format!("{}:{}", self.request.provider, self.request.model)),
                usage: Some(self.usage(&reply)),
            },
        });
        let usage = stored_reply.as_ref().and_then(|r| r.model_info.usage);
        let cumulate = self.cumulate(&message, target).await;
        let other_usage: Vec<UsageCharge> = self
            .sentiment_spend
            .calls()
            .into_iter()
            .map(|spent| UsageCharge {
                provider: spent.provider,
                model: spent.model,
                usage: TokenUsage {
                    prompt_tokens: spent.usage.prompt_tokens,
                    completion_tokens: spent.usage.completion_tokens,
                    reasoning_tokens: spent.usage.reasoning_tokens,
                    source: if spent.estimated {
                        UsageSource::Estimated
                    } else {
                        UsageSource::Provider
                    },
                },
            })
            .collect();
        let stored = super::store_finished(
            inner,
            FinishedTurn {
                user_id: self.request.user_id,
                conversation_id: self.conversation_id,
                user_message_id: self.user_message_id,
                stream_id: self.stream_id.clone(),
                reply: stored_reply,
                message_sentiment: Some(message.clone()),
                cumulate,
                usage_day: inner.clock.now().date(),
                other_usage: other_usage.clone(),
            },
        )
        .await;
        let cumulative = match stored {
            Ok(FinishOutcome::Stored { cumulative, .. }) => {
                if let Some(usage) = &usage {
                    inner
                        .usage
                        .record(&inner.llm, &served_provider, &served_model, usage);
                }
                for charge in &other_usage {
                    inner
                        .usage
                        .record(&inner.llm, &charge.provider, &charge.model, &charge.usage);
                }
                cumulative
            }
            Ok(FinishOutcome::AlreadyFinished) => {
                log.push(&TurnEvent::Error {
                    message: "This reply was interrupted. Reload the conversation.".into(),
                    kind: "interrupted".into(),
                });
                return Err("the turn was already finished elsewhere".to_owned());
            }
            Err(RepositoryError::NotFound) => {
                log.push(&TurnEvent::Error {
                    message: "The conversation was deleted.".into(),
                    kind: "not_found".into(),
                });
                return Ok(());
            }
            Err(error) => {
                // The turn's record stays: once the database is back, the orphan scan stores
                // what the durable copy holds, as `interrupted`.
                log.push(&TurnEvent::Error {
                    message: "The reply could not be saved yet; it will be stored when the database is back.".into(),
                    kind: "storage".into(),
                });
                return Err(format!("storing the reply failed: {error}"));
            }
        };
        // The reply moved the conversation and changed its first page: one history
        // invalidation bumps the owner's generation, which covers the detail pages too.
        inner.cache.invalidate_history(self.request.user_id).await;
        match &reply.error {
            Some(error) => {
                log.push(&error_event(error));
            }
            None => {
                log.push(&TurnEvent::Sentiment {
                    message: Some(Box::new(message)),
                    cumulative: cumulative.map(Box::new),
                });
                log.push(&TurnEvent::Done(finish));
            }
        }
        Ok(())
    }

    /// The cumulative update, computed now from the state known when the turn started (an
    /// LLM update may take a while), and applied inside the finishing transaction to the
    /// state stored then: unchanged, the precomputed result stands; changed by an
    /// overlapping turn, the deterministic rule is applied to the newer state instead, so no
    /// update is lost.
    async fn cumulate(
        &self,
        message: &SentimentResult,
        target: &LlmTarget,
    ) -> lia_domain::ports::Cumulate {
        let inner = &self.service.inner;
        let base = self.start_state.clone();
        let update = inner.sentiment.update_cumulative_metered(
            base.as_ref(),
            Some(message),
            self.request.text.as_str(),
            self.request.sentiment_method,
            target,
            &self.sentiment_spend,
        );
        let precomputed = tokio::time::timeout(
            Duration::from_millis(inner.config.sentiment_timeout_ms),
            update,
        )
        .await
        .unwrap_or_else(|_| lia_sentiment::cumulative::apply(base.as_ref(), Some(message)));
        let message = message.clone();
        std::sync::Arc::new(move |stored: Option<&CumulativeSentiment>| {
            if stored == base.as_ref() {
                precomputed.clone()
            } else {
                lia_sentiment::cumulative::apply(stored, Some(&message))
            }
        })
    }
}

/// Streams the provider's reply into events until it ends, fails, or is interrupted (also
/// while the call is still opening, retries included).
async fn stream_reply(
    generation: &Generation,
    mut interruption: watch::Receiver<Interruption>,
    structured: bool,
    log: &LiveLog,
) -> Reply {
    let mut reply = Reply::default();
    let inner = &generation.service.inner;
    // The request's own target first, then its fallback chain, before any token.
    let opening = inner
        .llm
        .open(&generation.request.provider, &generation.llm_request);
    let mut stream = tokio::select! {
        opened = opening => match opened {
            Ok(opened) => {
                generation.announce(log, &opened.provider, &opened.model);
                reply.served = Some((opened.provider, opened.model));
                opened.stream
            }
            Err(error) => {
                generation.announce_first_target(log);
                reply.error = Some(error);
                return reply;
            }
        },
        why = interrupted(&mut interruption) => {
            generation.announce_first_target(log);
            reply.finish = Some(why);
            return reply;
        }
    };
    loop {
        tokio::select! {
            why = interrupted(&mut interruption) => {
                reply.finish = Some(why);
                break;
            }
            item = stream.next() => match item {
                Some(Ok(StreamEvent::Text(text))) => {
                    reply.text.push_str(&text);
                    log.push(&TurnEvent::Chunk(text));
                }
                Some(Ok(StreamEvent::Thought(thought))) if !structured => {
                    log.push(&TurnEvent::Thought(thought.clone()));
                    reply.thoughts.push(thought);
                }
                Some(Ok(StreamEvent::Finished(reason))) => {
                    reply.finish = Some(match reason {
                        lia_llm::FinishReason::Length => FinishReason::Length,
                        _ => FinishReason::Stop,
                    });
                }
                Some(Ok(StreamEvent::Document(document))) => {
                    reply.structured = Some(StructuredSentiment::from_document(&document));
                }
                Some(Ok(StreamEvent::Usage(usage))) => reply.usage = Some(usage),
                Some(Ok(_)) => {}
                Some(Err(error)) => { reply.error = Some(error); break; }
                None => break,
            }
        }
    }
    reply
}

/// Resolves when the turn is asked to end early, with the finish reason to store.
async fn interrupted(interruption: &mut watch::Receiver<Interruption>) -> FinishReason {
    loop {
        match *interruption.borrow_and_update() {
            Interruption::Stopped => return FinishReason::Stopped,
            Interruption::Shutdown => return FinishReason::Interrupted,
            Interruption::None => {}
        }
        if interruption.changed().await.is_err() {
            // The signal is gone with the registry: nothing will interrupt this turn.
            std::future::pending::<()>().await;
        }
    }
}

/// Text as every backend stores it: PostgreSQL refuses NUL in text, so a model that emits
/// one gets it replaced rather than the reply lost.
fn storable(text: &str) -> String {
    if text.contains('\0') {
        text.replace('\0', "\u{FFFD}")
    } else {
        text.to_owned()
    }
}

/// The per-message result when the analysis took longer than allowed.
fn timed_out_result() -> SentimentResult {
    let mut result = SentimentResult::with_source(
        lia_domain::SentimentScore::NEUTRAL,
        lia_domain::SentimentSource::Fallback,
    )
    .with_emotion("neutral");
    result.details.error = Some("timeout".into());
    result
}

/// The `error` event for a provider failure: a useful message and the error kind.
fn error_event(error: &LlmError) -> TurnEvent {
    let message = match error {
        LlmError::RateLimited { .. } => {
            "The AI provider is rate limiting requests. Please try again in a moment.".to_owned()
        }
        LlmError::Unavailable(_) | LlmError::Timeout(_) => {
            "The AI provider is unavailable right now. Please try again.".to_owned()
        }
        LlmError::ModelNotFound(_) => {
            "The requested model is not available from this provider.".to_owned()
        }
        LlmError::InvalidRequest(_) => "The AI provider rejected the request.".to_owned(),
        LlmError::Unauthorized(_) => "The AI provider refused the server's credentials.".to_owned(),
        _ => "An error occurred processing your request.".to_owned(),
    };
    TurnEvent::Error {
        message,
        kind: error.kind().to_owned(),
    }
}
