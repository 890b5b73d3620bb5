//! The stream-buffer port: the durable, cross-instance copy of every chat turn's events, kept
//! for a while so a client can re-attach and replay from its `Last-Event-ID` through any
//! server instance, and so a turn whose instance died can be recovered from what it sent.
//!
//! The generating instance serves its own followers from memory; it writes this copy in
//! batches (everything produced since its last write, in one round trip), never one round
//! trip per event. Stop requests travel the other way, pushed to every instance.

use std::borrow::Cow;
use std::pin::Pin;

use async_trait::async_trait;
use futures_core::Stream;

use crate::error::BoxError;

/// One buffered server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferedEvent {
    /// Monotonic per stream, starting at 1, without gaps.
    pub id: u64,
    /// The event name (`start`, `chunk` ...): borrowed for the names the chat turn uses,
    /// so a buffered event costs one allocation, its payload.
    pub event: Cow<'static, str>,
    /// The compact one-line JSON payload.
    pub data: String,
}

/// The event names of a chat turn, so a decoded event borrows its name too.
const KNOWN_EVENTS: [&str; 6] = ["start", "thought", "chunk", "sentiment", "done", "error"];

impl BufferedEvent {
    /// Bytes this event accounts for in a size-bounded buffer: its payload, a name that is
    /// not one of the known ones, and a fixed per-event overhead (the queue slot and the
    /// allocation's header).
    #[must_use]
    pub fn accounted_bytes(&self) -> usize {
        const OVERHEAD: usize = 80;
        let name = match &self.event {
            Cow::Borrowed(_) => 0,
            Cow::Owned(name) => name.len() + 16,
        };
        self.data.len() + name + OVERHEAD
    }

    /// An event name as stored, borrowing the known ones.
    #[must_use]
    pub fn name(name: &str) -> Cow<'static, str> {
        KNOWN_EVENTS
            .iter()
            .find(|known| **known == name)
            .map_or_else(
                || Cow::Owned(name.to_owned()),
                |known| Cow::Borrowed(*known),
            )
    }

    /// Whether the stream ends after this event (`done` or `error`).
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        self.event == "done" || self.event == "error"
    }
}

/// Everything a buffer holds of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredStream {
    /// The events, oldest first (the oldest may have been trimmed by a size cap).
    pub events: Vec<BufferedEvent>,
    /// Whether the stream was closed (no event will follow).
    pub closed: bool,
}

/// A live sequence of events.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<BufferedEvent, StreamBufferError>> + Send>>;

/// Stream ids whose stop was requested, pushed to every instance.
pub type StopRequests = Pin<Box<dyn Stream<Item = String> + Send>>;

/// The buffer failed or the stream is unknown.
#[derive(Debug, thiserror::Error)]
pub enum StreamBufferError {
    /// No stream with that id (never existed, or expired).
    #[error("stream not found")]
    NotFound,
    /// The backend failed or is full.
    #[error("stream buffer unavailable")]
    Unavailable(#[source] BoxError),
}

/// Append-only per-turn event logs with replay, live follow and pushed stop requests.
#[async_trait]
pub trait StreamBuffer: Send + Sync + 'static {
    /// Appends `events` to stream `stream_id` in one write and, when `close` is set, marks the
    /// stream complete after them. Ids must continue the stream's sequence; an empty batch
    /// with `close` only closes.
    ///
    /// # Errors
    /// [`StreamBufferError::Unavailable`] when the write did not happen; the caller keeps
    /// the batch and writes it again later, so the copy never has a gap.
    async fn append(
        &self,
        stream_id: &str,
        events: &[BufferedEvent],
        close: bool,
    ) -> Result<(), StreamBufferError>;

    /// Every event with an id greater than `after`, then live events until the stream closes.
    ///
    /// # Errors
    /// [`StreamBufferError::NotFound`] for an unknown or expired stream.
    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError>;

    /// What is stored of the stream now (for recovering a turn whose instance died).
    ///
    /// # Errors
    /// [`StreamBufferError::NotFound`] for an unknown or expired stream.
    async fn read(&self, stream_id: &str) -> Result<StoredStream, StreamBufferError>;

    /// Asks whichever server instance generates the stream to stop it, by push.
    ///
    /// # Errors
    /// [`StreamBufferError::NotFound`] when no such stream exists.
    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError>;

    /// The stop requests addressed to any stream, as they arrive; each instance listens once
    /// and stops the turns it generates.
    fn stop_requests(&self) -> StopRequests;
}
