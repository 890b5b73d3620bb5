//! The stream-buffer port: every event of a chat turn, kept for a while so a client can
//! re-attach and replay from its `Last-Event-ID`, even through another server instance.

use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;

use crate::error::BoxError;

/// One buffered server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedEvent {
    /// Monotonic per stream, starting at 1.
    pub id: u64,
    /// The event name (`start`, `chunk` ...).
    pub event: String,
    /// The compact JSON payload.
    pub data: String,
}

/// A live sequence of events.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<BufferedEvent, StreamBufferError>> + Send>>;

/// The buffer failed or the stream is unknown.
#[derive(Debug, thiserror::Error)]
pub enum StreamBufferError {
    /// No stream with that id (never existed, or expired).
    #[error("stream not found")]
    NotFound,
    /// The backend failed.
    #[error("stream buffer unavailable")]
    Unavailable(#[source] BoxError),
}

/// Append-only per-turn event logs with replay and live follow.
#[async_trait]
pub trait StreamBuffer: Send + Sync + 'static {
    /// Appends `event` to stream `stream_id`; ids must increase.
    async fn append(&self, stream_id: &str, event: BufferedEvent) -> Result<(), StreamBufferError>;

    /// Marks the stream complete: followers end after the last event; it expires later.
    async fn close(&self, stream_id: &str) -> Result<(), StreamBufferError>;

    /// Every event with an id greater than `after`, then live events until the stream closes.
    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError>;

    /// Asks whichever server instance generates the stream to stop it.
    ///
    /// # Errors
    /// [`StreamBufferError::NotFound`] when no such stream exists.
    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError>;

    /// Whether a stop was requested for the stream (polled by the generating instance).
    async fn stop_requested(&self, stream_id: &str) -> bool;
}
