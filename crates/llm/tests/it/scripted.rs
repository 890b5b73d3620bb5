//! A scripted in-process provider: each call to `stream` plays the next script entry.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use lia_llm::{ChatRequest, ChatStream, LlmError, LlmProvider, ModelDescriptor, StreamEvent};

/// One call's behaviour.
#[derive(Clone, Debug)]
pub(crate) enum Script {
    /// Fail opening the stream.
    Fail(LlmError),
    /// Yield these items in order.
    Items(Vec<Result<StreamEvent, LlmError>>),
    /// Never yield anything.
    Silent,
}

pub(crate) struct ScriptedProvider {
    scripts: Mutex<Vec<Script>>,
    pub(crate) calls: AtomicUsize,
}

impl ScriptedProvider {
    pub(crate) fn new(scripts: Vec<Script>) -> Self {
        Self {
            scripts: Mutex::new(scripts),
            calls: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl LlmProvider for ScriptedProvider {
    fn name(&self) -> &str {
        "scripted"
    }

    fn models(&self) -> &[ModelDescriptor] {
        &[]
    }

    async fn stream(&self, _request: &ChatRequest) -> Result<ChatStream, LlmError> {
        let index = self.calls.fetch_add(1, Ordering::SeqCst);
        let script = {
            let scripts = self.scripts.lock().unwrap();
            scripts.get(index).or(scripts.last()).cloned().unwrap()
        };
        match script {
            Script::Fail(error) => Err(error),
            Script::Items(items) => Ok(Box::pin(futures::stream::iter(items))),
            Script::Silent => Ok(Box::pin(futures::stream::pending())),
        }
    }
}
