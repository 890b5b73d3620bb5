#![doc = include_str!("../README.md")]

pub mod circuit;
pub mod error;
pub mod estimate;
pub mod fallback;
pub mod local;
pub mod model_name;
pub mod provider;
pub mod providers;
pub mod registry;
pub mod reliability;
mod secret;
pub mod sse;
pub mod structured;
mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

pub use circuit::{CircuitConfig, CircuitState};
pub use error::{LlmError, TimeoutKind};
pub use fallback::{Opened, Target};
pub use provider::{LlmProvider, collect};
pub use registry::{LlmConfig, ProviderRegistry};
pub use reliability::{AttemptObserver, Reliable, RetryPolicy, Timeouts};
pub use secret::ApiKey;
pub use structured::StructuredOutput;
pub use types::{
    ChatMessage, ChatRequest, ChatRole, ChatStream, Completion, FinishReason, GenerationSettings,
    ModelDescriptor, ResponseFormat, StreamEvent, Usage,
};
