//! [`StreamBuffer`] in process memory, bounded in time and in bytes.
//!
//! Streams live in one map; finished streams are also queued in the order they closed, so
//! expiry and eviction only ever look at the front of that queue: every operation costs O(1)
//! amortised (plus the events it moves), however many streams exist or existed. When the
//! total size would pass `max_bytes`, the oldest finished streams go first; an open stream is
//! never evicted (an append that finds only open streams to evict is refused, and the chat
//! turn keeps serving its own followers from memory). Stop requests are broadcast to every
//! subscriber in the process.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use lia_domain::ports::{
    BufferedEvent, EventStream, StopRequests, StoredStream, StreamBuffer, StreamBufferError,
};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

/// How much the in-process buffer keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryStreamLimits {
    /// Events kept per stream (the oldest are dropped past it).
    pub max_events_per_stream: usize,
    /// How long a finished stream stays replayable.
    pub ttl: Duration,
    /// Total accounted bytes of every stream's events (see
    /// [`BufferedEvent::accounted_bytes`]).
    pub max_bytes: usize,
}

impl Default for MemoryStreamLimits {
    fn default() -> Self {
        Self {
            max_events_per_stream: 10_000,
            ttl: Duration::from_secs(600),
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Accounted bytes of a stream besides its events: the map entry and its key, the progress
/// channel, the queue slot once it is finished.
const STREAM_OVERHEAD: usize = 320;

#[derive(Debug)]
struct Entry {
    events: VecDeque<BufferedEvent>,
    bytes: usize,
    closed: bool,
    /// The last appended id and whether the stream is closed; wakes followers.
    progress: watch::Sender<(u64, bool)>,
}

#[derive(Debug)]
struct Finished {
    stream_id: String,
    closed_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    streams: HashMap<String, Entry>,
    /// Closed streams in the order they closed: the front is the first to expire or go.
    finished: VecDeque<Finished>,
    bytes: usize,
}

/// What the buffer and its followers share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    work: AtomicU64,
}

impl Shared {
    fn visit(&self, n: u64) {
        self.work.fetch_add(n, Ordering::Relaxed);
    }
}

/// The in-process stream buffer.
#[derive(Debug)]
pub struct MemoryStreamBuffer {
    shared: Arc<Shared>,
    stops: broadcast::Sender<String>,
    limits: MemoryStreamLimits,
}

impl MemoryStreamBuffer {
    /// A buffer within `limits`.
    #[must_use]
    pub fn new(limits: MemoryStreamLimits) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                work: AtomicU64::new(0),
            }),
            stops: broadcast::channel(1_024).0,
            limits: MemoryStreamLimits {
                max_events_per_stream: limits.max_events_per_stream.max(1),
                ..limits
            },
        }
    }

    /// Streams, events and finished-queue entries visited so far by lookups, expiry and
    /// eviction: a work counter that grows by O(1) per operation (plus the events an
    /// operation moves), whatever the number of streams.
    #[must_use]
    pub fn entries_visited(&self) -> u64 {
        self.shared.work.load(Ordering::Relaxed)
    }

    /// Accounted bytes held now (never more than `max_bytes`).
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.lock().map_or(0, |state| state.bytes)
    }

    /// Streams held now, open and finished.
    #[must_use]
    pub fn streams(&self) -> usize {
        self.lock().map_or(0, |state| state.streams.len())
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StreamBufferError> {
        self.shared
            .state
            .lock()
            .map_err(|_| unavailable("lock poisoned"))
    }

    fn visit(&self, n: u64) {
        self.shared.visit(n);
    }

    /// Drops the finished streams whose retention has passed, from the front of the queue.
    fn expire(&self, state: &mut State, now: Instant) {
        while let Some(front) = state.finished.front() {
            self.visit(1);
            if now.duration_since(front.closed_at) < self.limits.ttl {
                break;
            }
            if let Some(front) = state.finished.pop_front() {
                remove(state, &front.stream_id);
            }
        }
    }

    /// Evicts the oldest finished streams until `needed` more bytes fit.
    fn make_room(&self, state: &mut State, needed: usize) -> Result<(), StreamBufferError> {
        while state.bytes + needed > self.limits.max_bytes {
            let Some(oldest) = state.finished.pop_front() else {
                return Err(unavailable(
                    "in-process stream buffer is full of open streams",
                ));
            };
            self.visit(1);
            remove(state, &oldest.stream_id);
        }
        Ok(())
    }
}

fn remove(state: &mut State, stream_id: &str) {
    if let Some(entry) = state.streams.remove(stream_id) {
        state.bytes -= entry.bytes;
    }
}

fn unavailable(reason: &str) -> StreamBufferError {
    StreamBufferError::Unavailable(reason.to_owned().into())
}

#[async_trait]
impl StreamBuffer for MemoryStreamBuffer {
    async fn append(
        &self,
        stream_id: &str,
        events: &[BufferedEvent],
        close: bool,
    ) -> Result<(), StreamBufferError> {
        let now = Instant::now();
        let mut state = self.lock()?;
        self.expire(&mut state, now);
        let mut needed: usize = events.iter().map(BufferedEvent::accounted_bytes).sum();
        if !state.streams.contains_key(stream_id) {
            needed += STREAM_OVERHEAD + stream_id.len();
        }
        self.make_room(&mut state, needed)?;
        self.visit(1);
        let state = &mut *state;
        let entry = state
            .streams
            .entry(stream_id.to_owned())
            .or_insert_with(|| Entry {
                events: VecDeque::new(),
                bytes: 0,
                closed: false,
                progress: watch::Sender::new((0, false)),
            });
        entry.events.extend(events.iter().cloned());
        entry.bytes += needed;
        state.bytes += needed;
        while entry.events.len() > self.limits.max_events_per_stream {
            if let Some(dropped) = entry.events.pop_front() {
                entry.bytes -= dropped.accounted_bytes();
                state.bytes -= dropped.accounted_bytes();
            }
        }
        if close && !entry.closed {
            entry.closed = true;
            state.finished.push_back(Finished {
                stream_id: stream_id.to_owned(),
                closed_at: now,
            });
        }
        let last = entry.events.back().map_or(0, |event| event.id);
        let closed = entry.closed;
        entry.progress.send_replace((last, closed));
        Ok(())
    }

    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError> {
        let progress = {
            let mut state = self.lock()?;
            self.expire(&mut state, Instant::now());
            self.visit(1);
            state
                .streams
                .get(stream_id)
                .ok_or(StreamBufferError::NotFound)?
                .progress
                .subscribe()
        };
        let follower = Follower {
            shared: Arc::clone(&self.shared),
            stream_id: stream_id.to_owned(),
            after,
            progress,
            pending: VecDeque::new(),
        };
        Ok(Box::pin(futures::stream::unfold(follower, next_event)))
    }

    async fn read(&self, stream_id: &str) -> Result<StoredStream, StreamBufferError> {
        let mut state = self.lock()?;
        self.expire(&mut state, Instant::now());
        self.visit(1);
        let entry = state
            .streams
            .get(stream_id)
            .ok_or(StreamBufferError::NotFound)?;
        Ok(StoredStream {
            events: entry.events.iter().cloned().collect(),
            closed: entry.closed,
        })
    }

    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        {
            let mut state = self.lock()?;
            self.expire(&mut state, Instant::now());
            self.visit(1);
            if !state.streams.contains_key(stream_id) {
                return Err(StreamBufferError::NotFound);
            }
        }
        // Nobody listening is fine: the turn is not generating in this process.
        let _ = self.stops.send(stream_id.to_owned());
        Ok(())
    }

    fn stop_requests(&self) -> StopRequests {
        let receiver = self.stops.subscribe();
        Box::pin(futures::stream::unfold(
            receiver,
            |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(stream_id) => return Some((stream_id, receiver)),
                        // A listener that fell behind skips what it missed and goes on.
                        Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}

/// A follower's state between polls; it holds the shared state, not the buffer, so the stream
/// it yields is `'static`.
struct Follower {
    shared: Arc<Shared>,
    stream_id: String,
    after: u64,
    progress: watch::Receiver<(u64, bool)>,
    pending: VecDeque<BufferedEvent>,
}

impl Follower {
    /// The stream's events after `self.after`; `None` once the stream is gone.
    fn fresh(&self) -> Option<Vec<BufferedEvent>> {
        let state = self.shared.state.lock().ok()?;
        self.shared.visit(1);
        let entry = state.streams.get(&self.stream_id)?;
        // Ids have no gaps, so the first new event's position is known without a search.
        let first = entry.events.front().map_or(0, |event| event.id);
        let skip = usize::try_from((self.after + 1).saturating_sub(first)).unwrap_or(usize::MAX);
        Some(entry.events.iter().skip(skip).cloned().collect())
    }
}

async fn next_event(
    mut follower: Follower,
) -> Option<(Result<BufferedEvent, StreamBufferError>, Follower)> {
    loop {
        if let Some(event) = follower.pending.pop_front() {
            follower.after = event.id;
            return Some((Ok(event), follower));
        }
        // Mark the current progress as seen before copying, so no append is missed.
        let (_, closed) = *follower.progress.borrow_and_update();
        let fresh = follower.fresh()?;
        if !fresh.is_empty() {
            follower.pending.extend(fresh);
            continue;
        }
        if closed || follower.progress.changed().await.is_err() {
            return None;
        }
    }
}
