//! [`StreamBuffer`] in process memory: each stream keeps its events (bounded) and a watch
//! channel that wakes followers; finished streams are forgotten after their TTL.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lia_domain::ports::{BufferedEvent, EventStream, StreamBuffer, StreamBufferError};
use tokio::sync::watch;

#[derive(Debug)]
struct Stream {
    events: Mutex<VecDeque<BufferedEvent>>,
    /// The last appended id and whether the stream is closed.
    progress: watch::Sender<(u64, bool)>,
    closed_at: Mutex<Option<Instant>>,
    stop_requested: std::sync::atomic::AtomicBool,
}

/// The in-process stream buffer.
#[derive(Debug)]
pub struct MemoryStreamBuffer {
    streams: Mutex<HashMap<String, Arc<Stream>>>,
    max_events: usize,
    ttl: Duration,
}

impl MemoryStreamBuffer {
    /// A buffer keeping `max_events` per stream, forgetting closed streams after `ttl`.
    #[must_use]
    pub fn new(max_events: usize, ttl: Duration) -> Self {
        Self {
            streams: Mutex::new(HashMap::new()),
            max_events: max_events.max(1),
            ttl,
        }
    }

    fn stream(&self, id: &str, create: bool) -> Result<Arc<Stream>, StreamBufferError> {
        let mut streams = self
            .streams
            .lock()
            .map_err(|_| unavailable("lock poisoned"))?;
        let ttl = self.ttl;
        streams.retain(|_, stream| {
            stream
                .closed_at
                .lock()
                .map_or(true, |at| at.is_none_or(|at| at.elapsed() < ttl))
        });
        if let Some(stream) = streams.get(id) {
            return Ok(Arc::clone(stream));
        }
        if !create {
            return Err(StreamBufferError::NotFound);
        }
        let stream = Arc::new(Stream {
            events: Mutex::new(VecDeque::new()),
            progress: watch::Sender::new((0, false)),
            closed_at: Mutex::new(None),
            stop_requested: std::sync::atomic::AtomicBool::new(false),
        });
        streams.insert(id.to_owned(), Arc::clone(&stream));
        Ok(stream)
    }
}

fn unavailable(reason: &str) -> StreamBufferError {
    StreamBufferError::Unavailable(reason.to_owned().into())
}

#[async_trait]
impl StreamBuffer for MemoryStreamBuffer {
    async fn append(&self, stream_id: &str, event: BufferedEvent) -> Result<(), StreamBufferError> {
        let stream = self.stream(stream_id, true)?;
        let id = event.id;
        {
            let mut events = stream
                .events
                .lock()
                .map_err(|_| unavailable("lock poisoned"))?;
            events.push_back(event);
            while events.len() > self.max_events {
                events.pop_front();
            }
        }
        stream.progress.send_modify(|progress| progress.0 = id);
        Ok(())
    }

    async fn close(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        let stream = self.stream(stream_id, true)?;
        if let Ok(mut closed_at) = stream.closed_at.lock() {
            *closed_at = Some(Instant::now());
        }
        stream.progress.send_modify(|progress| progress.1 = true);
        Ok(())
    }

    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        let stream = self.stream(stream_id, false)?;
        stream
            .stop_requested
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn stop_requested(&self, stream_id: &str) -> bool {
        self.stream(stream_id, false).is_ok_and(|stream| {
            stream
                .stop_requested
                .load(std::sync::atomic::Ordering::SeqCst)
        })
    }

    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError> {
        let stream = self.stream(stream_id, false)?;
        let progress = stream.progress.subscribe();
        let state = (stream, progress, after, VecDeque::<BufferedEvent>::new());
        Ok(Box::pin(futures::stream::unfold(
            state,
            |(stream, mut progress, mut after, mut pending)| async move {
                loop {
                    if let Some(event) = pending.pop_front() {
                        after = event.id;
                        return Some((Ok(event), (stream, progress, after, pending)));
                    }
                    // Mark the current progress as seen before reading, so no append is missed.
                    let (_, closed) = *progress.borrow_and_update();
                    if let Ok(events) = stream.events.lock() {
                        pending.extend(events.iter().filter(|e| e.id > after).cloned());
                    }
                    if !pending.is_empty() {
                        continue;
                    }
                    if closed || progress.changed().await.is_err() {
                        return None;
                    }
                }
            },
        )))
    }
}
