//! The provider trait every adapter implements.

use async_trait::async_trait;
use futures::StreamExt;

use crate::error::LlmError;
use crate::types::{ChatRequest, ChatStream, Completion, ModelDescriptor, StreamEvent};

/// A source of chat completions. Object safe: use it as `Arc<dyn LlmProvider>`.
#[async_trait]
pub trait LlmProvider: Send + Sync + 'static {
    /// The provider's name, e.g. `openai`.
    fn name(&self) -> &str;

    /// The models this provider advertises (a model id outside this list is still passed on).
    fn models(&self) -> &[ModelDescriptor];

    /// Starts a streamed generation. Failures before the first event may come back either as
    /// the `Err` of this call or as the first item of the stream.
    async fn stream(&self, request: &ChatRequest) -> Result<ChatStream, LlmError>;

    /// A whole generation; by default, the stream collected.
    async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        collect(self.stream(request).await?).await
    }
}

/// Collects a stream into a [`Completion`], stopping at the first error.
///
/// # Errors
/// The first error the stream yields.
pub async fn collect(mut stream: ChatStream) -> Result<Completion, LlmError> {
    let mut completion = Completion::default();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Text(text) => completion.text.push_str(&text),
            StreamEvent::Thought(thought) => completion.thoughts.push(thought),
            StreamEvent::Usage(usage) => completion.usage = Some(usage),
            StreamEvent::Finished(reason) => completion.finish_reason = Some(reason),
            StreamEvent::Document(document) => completion.document = Some(document),
        }
    }
    Ok(completion)
}
