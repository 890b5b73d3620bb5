//! One generation, from the first token to the stored reply: stream from the provider while
//! the message's sentiment is computed alongside, then the cumulative update, then one
//! transaction storing reply and sentiment, then the caches, then `sentiment` and `done`.
//! A stop or a shutdown ends the stream early and stores what was generated.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use lia_domain::ports::FinishedTurn;
use lia_domain::{
    ContextMessage, ConversationId, ConversationSummary, CumulativeSentiment, FinishReason,
    MessageId, MessageSentiment, ModelInfo, Role, SentimentResult,
};
use lia_llm::{ChatRequest, LlmError, StreamEvent, StructuredSentiment};
use lia_sentiment::{LlmTarget, SentimentMethod};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::{ChatService, TurnRequest};
use crate::active::{Interruption, TurnSlot};
use crate::events::TurnEvent;

pub(super) struct Generation {
    pub(super) service: ChatService,
    pub(super) request: TurnRequest,
    pub(super) llm_request: ChatRequest,
    pub(super) provider_name: String,
    pub(super) stream_id: String,
    pub(super) conversation_id: ConversationId,
    pub(super) user_message_id: MessageId,
    pub(super) previous_messages: u64,
    pub(super) title: Option<String>,
    pub(super) created_at: OffsetDateTime,
    pub(super) previous_state: Option<CumulativeSentiment>,
    pub(super) slot: TurnSlot,
}

/// How often a turn checks for a stop requested through another instance.
const STOP_POLL: Duration = Duration::from_millis(250);

/// What the provider produced.
#[derive(Default)]
struct Reply {
    text: String,
    thoughts: Vec<String>,
    finish: Option<FinishReason>,
    error: Option<LlmError>,
    structured: Option<StructuredSentiment>,
}

/// Appends events with consecutive ids; a buffer failure is logged and the turn goes on, so
/// the reply is still stored even if a follower misses it.
struct Emitter<'a> {
    service: &'a ChatService,
    stream_id: &'a str,
    next_id: &'a AtomicU64,
}

impl Emitter<'_> {
    async fn emit(&mut self, event: TurnEvent) {
        let buffered = event.buffered(self.next_id.fetch_add(1, Ordering::SeqCst));
        if let Err(error) = self
            .service
            .inner
            .buffer
            .append(self.stream_id, buffered)
            .await
        {
            tracing::warn!(stream_id = self.stream_id, %error, "stream buffer append failed");
        }
    }
}

impl Generation {
    /// Runs the turn. Whatever happens inside, even a panic, the stream ends with a last event
    /// and is closed, so no follower waits forever.
    pub(super) async fn run(self) -> Result<(), String> {
        let service = self.service.clone();
        let next_id = AtomicU64::new(2);
        let outcome = AssertUnwindSafe(self.generate(&next_id))
            .catch_unwind()
            .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(_) => {
                let mut emitter = Emitter {
                    service: &service,
                    stream_id: &self.stream_id,
                    next_id: &next_id,
                };
                emitter
                    .emit(TurnEvent::Error {
                        message: "An error occurred processing your request.".into(),
                        kind: "internal".into(),
                    })
                    .await;
                Err("the turn panicked".to_owned())
            }
        };
        if let Err(error) = service.inner.buffer.close(&self.stream_id).await {
            tracing::warn!(stream_id = %self.stream_id, %error, "stream buffer close failed");
        }
        drop(self.slot);
        outcome
    }

    async fn generate(&self, next_id: &AtomicU64) -> Result<(), String> {
        let service = &self.service;
        let mut emitter = Emitter {
            service,
            stream_id: &self.stream_id,
            next_id,
        };
        let target = LlmTarget {
            provider: self.request.provider.clone(),
            model: self.request.model.clone(),
        };
        let method = self.request.sentiment_method;
        let text = self.request.text.as_str();
        let sentiment = service.inner.sentiment.clone();
        let sentiment_timeout = Duration::from_millis(service.inner.config.sentiment_timeout_ms);
        let per_message = async {
            if method == SentimentMethod::Structured {
                return None;
            }
            let analysis =
                tokio::time::timeout(sentiment_timeout, sentiment.analyze(method, text, &target))
                    .await;
            Some(analysis.unwrap_or_else(|_| timed_out_result()))
        };
        let interruption = self.slot.interruption.clone();
        let structured = method == SentimentMethod::Structured;
        let (reply, message_result) = tokio::join!(
            stream_reply(
                service,
                &self.provider_name,
                &self.llm_request,
                interruption,
                structured,
                &mut emitter
            ),
            per_message
        );
        self.finish(&mut emitter, reply, message_result, &target)
            .await
    }

    async fn finish(
        &self,
        emitter: &mut Emitter<'_>,
        reply: Reply,
        message_result: Option<SentimentResult>,
        target: &LlmTarget,
    ) -> Result<(), String> {
        let inner = &self.service.inner;
        if let Some(error) = &reply.error {
            inner
                .counters
                .failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(kind = error.kind(), %error, "generation failed");
            if reply.text.is_empty() {
                emitter.emit(error_event(error)).await;
                return Ok(());
            }
        }
        let finish = if reply.error.is_some() {
            FinishReason::Error
        } else {
            reply.finish.unwrap_or(FinishReason::Stop)
        };
        let method = self.request.sentiment_method;
        let message = match message_result {
            Some(result) => result,
            None => inner
                .sentiment
                .from_structured(reply.structured.as_ref(), target),
        };
        let update = inner.sentiment.update_cumulative(
            self.previous_state.as_ref(),
            Some(&message),
            self.request.text.as_str(),
            method,
            target,
        );
        let (state, cumulative) = tokio::time::timeout(
            Duration::from_millis(inner.config.sentiment_timeout_ms),
            update,
        )
        .await
        .unwrap_or_else(|_| {
            // Too slow: the plain average still moves the state by this message.
            let previous = self.previous_state.clone().unwrap_or_default();
            lia_sentiment::cumulative::weighted_average(&previous, &message)
        });
        let model_info = ModelInfo {
            provider: self.provider_name.clone(),
            model: self.request.model.clone(),
            thoughts: (!reply.thoughts.is_empty()).then(|| reply.thoughts.clone()),
            finish_reason: Some(finish),
        };
        let stored = inner
            .repository
            .finish_turn(FinishedTurn {
                user_id: self.request.user_id,
                conversation_id: self.conversation_id,
                user_message_id: self.user_message_id,
                reply: reply.text.clone(),
                model_info,
                user_sentiment: Some(MessageSentiment {
                    message: Some(message.clone()),
                    cumulative: Some(cumulative.clone()),
                }),
                sentiment_state: Some(state),
            })
            .await;
        if let Err(error) = stored {
            emitter
                .emit(TurnEvent::Error {
                    message: "The reply could not be saved.".into(),
                    kind: "storage".into(),
                })
                .await;
            return Err(format!("storing the reply failed: {error}"));
        }
        self.update_caches(&reply.text).await;
        match &reply.error {
            Some(error) => emitter.emit(error_event(error)).await,
            None => {
                emitter
                    .emit(TurnEvent::Sentiment {
                        message: Some(Box::new(message)),
                        cumulative: Some(Box::new(cumulative)),
                    })
                    .await;
                emitter.emit(TurnEvent::Done(finish)).await;
            }
        }
        Ok(())
    }

    /// After the commit: the context gains the reply, the history moves this conversation to
    /// the top with its new count, and cached detail pages of the owner are invalidated.
    async fn update_caches(&self, reply: &str) {
        let cache = &self.service.inner.cache;
        let user = self.request.user_id;
        cache
            .append_context(
                self.conversation_id,
                &[ContextMessage {
                    role: Role::Assistant,
                    content: reply.to_owned(),
                }],
            )
            .await;
        let summary = ConversationSummary {
            id: self.conversation_id,
            title: self.title.clone(),
            created_at: self.created_at,
            updated_at: lia_domain::clock::now_utc(),
            message_count: self.previous_messages + 2,
        };
        cache.upsert_history(user, &summary).await;
        cache
            .invalidate_conversation(user, self.conversation_id)
            .await;
    }
}

/// Streams the provider's reply into events until it ends, fails, or is interrupted.
async fn stream_reply(
    service: &ChatService,
    provider: &str,
    request: &ChatRequest,
    mut interruption: watch::Receiver<Interruption>,
    structured: bool,
    emitter: &mut Emitter<'_>,
) -> Reply {
    let mut reply = Reply::default();
    let mut stream = match service.inner.llm.stream(provider, request).await {
        Ok(stream) => stream,
        Err(error) => {
            reply.error = Some(error);
            return reply;
        }
    };
    // A stop may also be requested through another server instance, via the stream buffer.
    let mut stop_poll = tokio::time::interval(STOP_POLL);
    stop_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop_poll.tick() => {
                if service.inner.buffer.stop_requested(emitter.stream_id).await {
                    reply.finish = Some(FinishReason::Stopped);
                    break;
                }
            }
            changed = interruption.changed() => {
                let why = if changed.is_ok() { *interruption.borrow() } else { Interruption::None };
                match why {
                    Interruption::Stopped => { reply.finish = Some(FinishReason::Stopped); break; }
                    Interruption::Shutdown => { reply.finish = Some(FinishReason::Interrupted); break; }
                    Interruption::None => {}
                }
            }
            item = stream.next() => match item {
                Some(Ok(StreamEvent::Text(text))) => {
                    reply.text.push_str(&text);
                    emitter.emit(TurnEvent::Chunk(text)).await;
                }
                Some(Ok(StreamEvent::Thought(thought))) if !structured => {
                    reply.thoughts.push(thought.clone());
                    emitter.emit(TurnEvent::Thought(thought)).await;
                }
                Some(Ok(StreamEvent::Finished(reason))) => {
                    reply.finish = Some(match reason {
                        lia_llm::FinishReason::Length => FinishReason::Length,
                        _ => FinishReason::Stop,
                    });
                }
                Some(Ok(StreamEvent::Sentiment(sentiment))) => reply.structured = Some(sentiment),
                Some(Ok(_)) => {}
                Some(Err(error)) => { reply.error = Some(error); break; }
                None => break,
            }
        }
    }
    reply
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
