//! The chat turn (`ARCHITECTURE.md`, "The chat turn"): store the user message, load the
//! context, then generate in a tracked task that runs independently of the HTTP connection,
//! with every event in the stream buffer so a client can re-attach and replay.

mod run;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lia_domain::ports::{ConversationCache, EventStream, NewTurn, StreamBuffer};
use lia_domain::{
    ContextMessage, ConversationId, ConversationRepository, ConversationSummary, MessageId,
    MessageText, Role, UserId,
};
use lia_llm::{
    ChatMessage, ChatRequest, ChatRole, GenerationSettings, ProviderRegistry, ResponseFormat,
};
use lia_sentiment::{SentimentMethod, SentimentService};

use crate::active::ActiveTurns;
use crate::config::ChatConfig;
use crate::error::ChatError;
use crate::events::TurnEvent;
use crate::prompt::system_prompt;
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

/// A started turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedTurn {
    /// The id to follow, re-attach to and stop the turn by.
    pub stream_id: String,
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The stored user message.
    pub message_id: MessageId,
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
    cache: Arc<dyn ConversationCache>,
    buffer: Arc<dyn StreamBuffer>,
    llm: Arc<ProviderRegistry>,
    sentiment: Arc<SentimentService>,
    tracker: TaskTracker,
    active: ActiveTurns,
    config: ChatConfig,
    counters: ChatCounters,
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
    /// The read-through cache.
    pub cache: Arc<dyn ConversationCache>,
    /// Where every turn's events go.
    pub buffer: Arc<dyn StreamBuffer>,
    /// The LLM providers.
    pub llm: Arc<ProviderRegistry>,
    /// Sentiment strategies.
    pub sentiment: Arc<SentimentService>,
    /// Where generation tasks run.
    pub tracker: TaskTracker,
}

impl ChatService {
    /// The service over `dependencies`.
    #[must_use]
    pub fn new(dependencies: ChatDependencies, config: ChatConfig) -> Self {
        let ChatDependencies {
            repository,
            cache,
            buffer,
            llm,
            sentiment,
            tracker,
        } = dependencies;
        Self {
            inner: Arc::new(Inner {
                repository,
                cache,
                buffer,
                llm,
                sentiment,
                tracker,
                active: ActiveTurns::default(),
                config,
                counters: ChatCounters::default(),
            }),
        }
    }

    /// The provider registry (for validation at the edge).
    #[must_use]
    pub fn llm(&self) -> &ProviderRegistry {
        &self.inner.llm
    }

    /// Turns generating now.
    #[must_use]
    pub fn active_turns(&self) -> usize {
        self.inner.active.count()
    }

    /// Turn counters.
    #[must_use]
    pub fn counters(&self) -> &ChatCounters {
        &self.inner.counters
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
        let provider = inner
            .llm
            .provider(&request.provider)
            .map_err(|_| ChatError::UnknownProvider(request.provider.clone()))?;
        let stream_id = format!("{}-{}", request.user_id, uuid::Uuid::new_v4().simple());
        let slot = inner
            .active
            .acquire(
                request.user_id,
                &stream_id,
                inner.config.max_active_turns_per_user,
            )
            .ok_or(ChatError::TooManyActiveTurns)?;
        let turn = inner
            .repository
            .start_turn(NewTurn {
                user_id: request.user_id,
                conversation_id: request.conversation_id,
                content: request.text.clone(),
            })
            .await?;
        let conversation_id = turn.conversation.id;
        let user_message = ContextMessage {
            role: Role::User,
            content: request.text.as_str().to_owned(),
        };
        inner
            .cache
            .append_context(conversation_id, std::slice::from_ref(&user_message))
            .await;
        // The history gains (or moves) this conversation now, not only when the turn ends, so
        // a sidebar refresh during generation shows it; the generation bump comes first.
        inner
            .cache
            .invalidate_conversation(request.user_id, conversation_id)
            .await;
        inner
            .cache
            .upsert_history(
                request.user_id,
                &ConversationSummary {
                    id: conversation_id,
                    title: turn.conversation.title.clone(),
                    created_at: turn.conversation.created_at,
                    updated_at: turn.conversation.updated_at,
                    message_count: turn.previous_messages + 1,
                },
            )
            .await;
        let context = match self.context(request.user_id, conversation_id).await {
            Ok(context) => context,
            Err(error) => {
                // The user message is stored: answer it without history rather than fail.
                tracing::warn!(%error, "context unavailable; answering without it");
                vec![user_message.clone()]
            }
        };

        let started = StartedTurn {
            stream_id: stream_id.clone(),
            conversation_id,
            message_id: turn.user_message_id,
        };
        let start = TurnEvent::Start {
            conversation_id,
            message_id: turn.user_message_id,
            stream_id: stream_id.clone(),
        };
        inner.buffer.append(&stream_id, start.buffered(1)).await?;
        inner.counters.started.fetch_add(1, Ordering::Relaxed);

        let structured = request.sentiment_method == SentimentMethod::Structured;
        let mut messages = vec![ChatMessage::new(
            ChatRole::System,
            system_prompt(inner.config.system_prompt.as_deref(), structured),
        )];
        messages.extend(context.into_iter().map(|m| {
            let role = if m.role == Role::User {
                ChatRole::User
            } else {
                ChatRole::Assistant
            };
            ChatMessage::new(role, m.content)
        }));
        let llm_request = ChatRequest {
            model: request.model.clone(),
            messages,
            settings: request.settings,
            format: if structured {
                ResponseFormat::Structured
            } else {
                ResponseFormat::Text
            },
        };
        let generation = run::Generation {
            service: self.clone(),
            request,
            llm_request,
            provider_name: provider.name().to_owned(),
            stream_id,
            conversation_id,
            user_message_id: turn.user_message_id,
            previous_messages: turn.previous_messages,
            title: turn.conversation.title.clone(),
            created_at: turn.conversation.created_at,
            previous_state: turn.conversation.sentiment_state.clone(),
            slot,
        };
        inner.tracker.spawn("chat_turn", generation.run());
        Ok(started)
    }

    /// The last context messages including the new user message, without empty ones (a turn
    /// stopped before its first token leaves no context, and some providers refuse empty parts).
    async fn context(
        &self,
        user_id: UserId,
        id: ConversationId,
    ) -> Result<Vec<ContextMessage>, ChatError> {
        let messages = self.load_context(user_id, id).await?;
        Ok(messages
            .into_iter()
            .filter(|m| !m.content.trim().is_empty())
            .collect())
    }

    /// From the cache, else from the database (then cached).
    async fn load_context(
        &self,
        user_id: UserId,
        id: ConversationId,
    ) -> Result<Vec<ContextMessage>, ChatError> {
        let limit = self.inner.config.context_messages + 1;
        if let Some(messages) = self.inner.cache.context(id, limit).await {
            return Ok(messages);
        }
        let messages = self
            .inner
            .repository
            .recent_messages(user_id, id, limit)
            .await?;
        self.inner.cache.replace_context(id, &messages).await;
        Ok(messages)
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
        Ok(self.inner.buffer.follow(stream_id, after).await?)
    }

    /// Stops `user`'s turn; its partial reply is stored with finish reason `stopped`. A turn
    /// generating on another server instance is asked through the stream buffer, which that
    /// instance polls.
    ///
    /// # Errors
    /// [`ChatError::NotFound`] when no such stream of theirs exists.
    pub async fn stop(&self, user_id: UserId, stream_id: &str) -> Result<(), ChatError> {
        if !owned_by(stream_id, user_id) {
            return Err(ChatError::NotFound);
        }
        if self.inner.active.stop(user_id, stream_id) {
            return Ok(());
        }
        Ok(self.inner.buffer.request_stop(stream_id).await?)
    }

    /// Shutdown: asks every turn to wrap up now, storing what it has with finish reason
    /// `interrupted`, and waits up to `deadline` for them to finish storing.
    pub async fn shutdown(&self, deadline: std::time::Duration) -> bool {
        let finished_in_time = self.inner.tracker.drain(deadline / 2).await;
        if finished_in_time {
            return true;
        }
        self.inner.active.interrupt_all();
        self.inner.tracker.drain(deadline / 2).await
    }
}

/// Stream ids start with their owner's id, so ownership is checked without a lookup, on any
/// server instance.
fn owned_by(stream_id: &str, user_id: UserId) -> bool {
    stream_id
        .split_once('-')
        .is_some_and(|(owner, _)| owner == user_id.to_string())
}
