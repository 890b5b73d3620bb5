//! Recovering a turn whose instance died: what its durable copy holds (the text every client
//! was shown, since followers only see what the copy holds) is stored as the reply with
//! finish reason `interrupted`, and the copy gets its closing `done` and is closed, so a
//! client re-attaching on any instance receives every event once and then the end.
//!
//! The finishing transaction claims the turn's record, so when several instances recover the
//! same turn at once, or its instance was only late, exactly one stores it.

use std::sync::Arc;

use lia_domain::ports::{
    ActiveTurn, BufferedEvent, FinishOutcome, FinishedTurn, StoredReply, StoredStream,
    StreamBufferError,
};
use lia_domain::{
    FinishReason, MessageWindow, ModelInfo, RepositoryError, TokenUsage, UsageSource,
};

use super::ChatService;
use crate::events::TurnEvent;

/// Recovers `stream_id` if it is still recorded as active; logs what happened.
pub(super) async fn recover(service: &ChatService, stream_id: &str) {
    match try_recover(service, stream_id).await {
        Ok(Some(outcome)) => tracing::info!(stream_id, outcome, "recovered a turn"),
        Ok(None) => tracing::debug!(stream_id, "nothing to recover"),
        Err(error) => tracing::warn!(stream_id, %error, "recovering a turn failed; retried later"),
    }
}

/// What a durable copy says of its turn.
#[derive(Debug, Default, PartialEq, Eq)]
struct Partial {
    text: String,
    thoughts: Vec<String>,
    last_id: u64,
    ended: bool,
}

impl Partial {
    fn of(events: &[BufferedEvent]) -> Self {
        let mut partial = Self::default();
        for event in events {
            partial.last_id = event.id;
            partial.ended |= event.is_terminal();
            let content = || {
                serde_json::from_str::<serde_json::Value>(&event.data)
                    .ok()
                    .and_then(|data| data["content"].as_str().map(str::to_owned))
            };
            match &*event.event {
                "chunk" => partial.text.push_str(&content().unwrap_or_default()),
                "thought" => partial.thoughts.extend(content()),
                _ => {}
            }
        }
        partial
    }
}

async fn try_recover(
    service: &ChatService,
    stream_id: &str,
) -> Result<Option<&'static str>, String> {
    let inner = &service.inner;
    let Some(record) = inner
        .repository
        .active_turn(stream_id)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let stored = match inner.buffer.read(stream_id).await {
        Ok(stored) => stored,
        // Nothing reached the copy (or it expired): the reply is empty.
        Err(StreamBufferError::NotFound) => StoredStream::default(),
        Err(error) => return Err(error.to_string()),
    };
    let partial = Partial::of(&stored.events);
    let usage = estimated_usage(service, &record, &partial).await;
    let (provider, model) = (record.provider.clone(), record.model.clone());
    let turn = FinishedTurn {
        user_id: record.user_id,
        conversation_id: record.conversation_id,
        user_message_id: record.user_message_id,
        stream_id: stream_id.to_owned(),
        reply: Some(StoredReply {
            text: partial.text.clone(),
            model_info: ModelInfo {
                provider: provider.clone(),
                model: model.clone(),
                thoughts: (!partial.thoughts.is_empty()).then(|| partial.thoughts.clone()),
                finish_reason: Some(FinishReason::Interrupted),
                fallback_from: None,
                usage: Some(usage),
            },
        }),
        message_sentiment: None,
        cumulate: Arc::new(|stored| lia_sentiment::cumulative::apply(stored, None)),
        usage_day: inner.clock.now().date(),
        other_usage: Vec::new(),
    };
    // One attempt: a failure is retried by the next sweep or scan, and a recovery never holds
    // up a shutdown.
    let (closing, outcome) = match inner.repository.finish_turn(turn).await {
        Ok(FinishOutcome::Stored { .. }) => {
            inner.cache.invalidate_history(record.user_id).await;
            inner.usage.record(&inner.llm, &provider, &model, &usage);
            (TurnEvent::Done(FinishReason::Interrupted), "interrupted")
        }
        Ok(FinishOutcome::AlreadyFinished) => return Ok(None),
        Err(RepositoryError::NotFound) => (
            TurnEvent::Error {
                message: "The conversation was deleted.".into(),
                kind: "not_found".into(),
            },
            "conversation deleted",
        ),
        Err(error) => return Err(error.to_string()),
    };
    let events = if partial.ended {
        Vec::new()
    } else {
        vec![closing.buffered(partial.last_id + 1)]
    };
    if !(stored.closed && partial.ended) {
        inner
            .buffer
            .append(stream_id, &events, true)
            .await
            .map_err(|e| format!("closing the stream failed: {e}"))?;
    }
    Ok(Some(outcome))
}

/// What an interrupted turn consumed, estimated (its provider never reported): the text its
/// clients were shown, and the prompt as the conversation's newest messages describe it
/// now (its context and its user message; concurrent turns in the same conversation can make
/// this approximate). A failed read leaves the prompt at 0 rather than holding up recovery.
async fn estimated_usage(
    service: &ChatService,
    record: &ActiveTurn,
    partial: &Partial,
) -> TokenUsage {
    let inner = &service.inner;
    let window = MessageWindow::latest(
        inner
            .config
            .context_messages
            .saturating_add(1)
            .min(MessageWindow::MAX_LIMIT),
    );
    let prompt =
        match window {
            Ok(window) => inner
                .repository
                .detail(record.user_id, record.conversation_id, window)
                .await
                .map(|page| {
                    let system =
                        crate::prompt::system_prompt(inner.config.system_prompt.as_deref(), false);
                    page.messages
                        .iter()
                        .map(|m| lia_llm::estimate::tokens(&m.content))
                        .fold(lia_llm::estimate::tokens(&system), u32::saturating_add)
                        .saturating_add(lia_llm::estimate::MESSAGE_OVERHEAD.saturating_mul(
                            u32::try_from(page.messages.len() + 1).unwrap_or(u32::MAX),
                        ))
                })
                .unwrap_or(0),
            Err(_) => 0,
        };
    let reasoning = partial
        .thoughts
        .iter()
        .map(|t| lia_llm::estimate::tokens(t))
        .fold(0, u32::saturating_add);
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: lia_llm::estimate::tokens(&partial.text).saturating_add(reasoning),
        reasoning_tokens: (reasoning > 0).then_some(reasoning),
        source: UsageSource::Estimated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partial_is_the_text_the_copy_holds() {
        let events = [
            TurnEvent::Chunk("Hello ".into()).buffered(2),
            TurnEvent::Thought("hmm".into()).buffered(3),
            TurnEvent::Chunk("world".into()).buffered(4),
        ];
        let partial = Partial::of(&events);
        assert_eq!(
            partial,
            Partial {
                text: "Hello world".into(),
                thoughts: vec!["hmm".into()],
                last_id: 4,
                ended: false,
            }
        );
        let ended = Partial::of(&[TurnEvent::Done(FinishReason::Stop).buffered(5)]);
        assert!(ended.ended);
    }
}
