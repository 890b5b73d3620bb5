//! [`StreamBuffer`] over Redis Streams: the durable, cross-instance copy of each chat turn.
//!
//! - A batch of events is one stream entry (fields `<event id>` → `<name>\n<json>`, plus
//!   `closed` on the last one), written with its expiry and a wake-up `PUBLISH` in one
//!   `MULTI`/`EXEC`: one round trip per batch, whatever its size. The stream is capped with
//!   `MAXLEN ~` and expires `ttl_secs` after its last write.
//! - Followers on this instance watch the stream's channel through the instance's single
//!   subscriber connection ([`super::notify`]) and read new entries with `XRANGE` after the
//!   last one they saw; a periodic re-read covers a lost message.
//! - A stop request is published on one channel that every instance listens to.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fred::prelude::{
    KeysInterface, PubsubInterface, StreamsInterface, TransactionInterface, Value,
};
use lia_domain::ports::{
    BufferedEvent, EventStream, StopRequests, StoredStream, StreamBuffer, StreamBufferError,
};

use super::RedisConnection;
use super::notify::{Notifications, Watch};

/// How long a follower waits for a wake-up before reading again anyway.
const REREAD_AFTER: Duration = Duration::from_secs(5);
/// Entries read per `XRANGE`.
const READ_COUNT: u64 = 256;
/// Consecutive failed reads after which a follower gives up (about half a minute).
const MAX_FAILED_READS: u32 = 6;

/// The Redis stream buffer.
#[derive(Debug, Clone)]
pub struct RedisStreamBuffer {
    redis: RedisConnection,
    max_entries: i64,
    ttl_secs: i64,
    notifications: Arc<Notifications>,
    round_trips: Arc<AtomicU64>,
}

impl RedisStreamBuffer {
    /// A buffer over `redis` keeping about `max_entries` batches per stream, each stream for
    /// `ttl_secs` after its last write. Starts the instance's notification dispatcher, so it
    /// must be called inside a Tokio runtime.
    #[must_use]
    pub fn new(redis: RedisConnection, max_entries: u64, ttl_secs: u64) -> Self {
        let notifications = Arc::new(Notifications::start(
            redis.subscriber.clone(),
            redis.keys.stops_channel(),
        ));
        Self {
            redis,
            max_entries: i64::try_from(max_entries.max(1)).unwrap_or(i64::MAX),
            ttl_secs: i64::try_from(ttl_secs.max(1)).unwrap_or(i64::MAX),
            notifications,
            round_trips: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Commands sent so far by appends, reads and stop requests, counted as round trips
    /// (a `MULTI`/`EXEC` is one): the work counter of this backend.
    #[must_use]
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Relaxed)
    }

    fn count_round_trip(&self) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    async fn exists(&self, key: &str) -> Result<bool, StreamBufferError> {
        self.count_round_trip();
        let exists: i64 = bounded(self.redis.timeout, self.redis.pool.exists(key)).await?;
        Ok(exists > 0)
    }
}

/// Runs a Redis command within `timeout`, as a stream-buffer error.
async fn bounded<T>(
    timeout: Duration,
    operation: impl Future<Output = Result<T, fred::error::Error>>,
) -> Result<T, StreamBufferError> {
    match tokio::time::timeout(timeout, operation).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(StreamBufferError::Unavailable(Box::new(error))),
        Err(_) => Err(StreamBufferError::Unavailable(
            "stream buffer command timed out".into(),
        )),
    }
}

/// One decoded stream entry: its id, its events and whether it closes the stream.
#[derive(Debug, Default)]
struct Entry {
    entry_id: String,
    events: Vec<BufferedEvent>,
    closed: bool,
}

/// Decodes an `XRANGE` reply (RESP2 arrays or RESP3 maps), skipping what it cannot read.
fn decode_entries(reply: Value) -> Vec<Entry> {
    let Value::Array(entries) = reply else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let Value::Array(mut parts) = entry else {
                return None;
            };
            if parts.len() != 2 {
                return None;
            }
            let fields = parts.pop()?;
            let entry_id = parts.pop()?.as_string()?;
            let pairs: Vec<(String, String)> = match fields {
                Value::Array(flat) => flat
                    .chunks_exact(2)
                    .filter_map(|pair| {
                        Some((pair.first()?.as_string()?, pair.get(1)?.as_string()?))
                    })
                    .collect(),
                Value::Map(map) => map
                    .inner()
                    .into_iter()
                    .filter_map(|(key, value)| Some((key.as_str()?.to_owned(), value.as_string()?)))
                    .collect(),
                _ => return None,
            };
            let mut decoded = Entry {
                entry_id,
                ..Entry::default()
            };
            for (field, value) in pairs {
                if field == "closed" {
                    decoded.closed = true;
                } else if let (Ok(id), Some((event, data))) =
                    (field.parse::<u64>(), value.split_once('\n'))
                {
                    decoded.events.push(BufferedEvent {
                        id,
                        event: BufferedEvent::name(event),
                        data: data.to_owned(),
                    });
                }
            }
            Some(decoded)
        })
        .collect()
}

/// A follower of one stream on this instance.
struct Follower {
    buffer: RedisStreamBuffer,
    key: String,
    /// The last entry read; the next read starts after it.
    last_entry: Option<String>,
    /// The last event id yielded.
    after: u64,
    pending: VecDeque<BufferedEvent>,
    closed: bool,
    watch: Watch,
    failed_reads: u32,
}

impl Follower {
    /// Reads the entries after `last_entry`; false when the stream no longer exists.
    async fn read(&mut self) -> Result<bool, StreamBufferError> {
        let start = self
            .last_entry
            .as_ref()
            .map_or_else(|| "-".to_owned(), |id| format!("({id}"));
        self.buffer.count_round_trip();
        let reply: Value = bounded(
            self.buffer.redis.timeout,
            self.buffer
                .redis
                .pool
                .xrange(self.key.as_str(), start, "+", Some(READ_COUNT)),
        )
        .await?;
        let entries = decode_entries(reply);
        if entries.is_empty() {
            return self.buffer.exists(&self.key).await;
        }
        for entry in entries {
            self.last_entry = Some(entry.entry_id);
            self.pending
                .extend(entry.events.into_iter().filter(|e| e.id > self.after));
            self.closed |= entry.closed;
        }
        Ok(true)
    }

    async fn next(mut self) -> Option<(Result<BufferedEvent, StreamBufferError>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = event.id;
                return Some((Ok(event), self));
            }
            if self.closed {
                return None;
            }
            // Mark the wake-ups seen before reading, so one that arrives during the read
            // is not lost.
            self.watch.changes.borrow_and_update();
            match self.read().await {
                Ok(true) => {
                    self.failed_reads = 0;
                    if !self.pending.is_empty() || self.closed {
                        continue;
                    }
                }
                // Expired or evicted: the follower ends.
                Ok(false) => return None,
                Err(error) => {
                    self.failed_reads += 1;
                    if self.failed_reads >= MAX_FAILED_READS {
                        return Some((Err(error), self.finished()));
                    }
                }
            }
            // A wake-up, or a periodic re-read in case a message was lost.
            let _ = tokio::time::timeout(REREAD_AFTER, self.watch.changes.changed()).await;
        }
    }

    fn finished(mut self) -> Self {
        self.closed = true;
        self.pending.clear();
        self
    }
}

#[async_trait]
impl StreamBuffer for RedisStreamBuffer {
    async fn append(
        &self,
        stream_id: &str,
        events: &[BufferedEvent],
        close: bool,
    ) -> Result<(), StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        let mut fields: Vec<(String, String)> = events
            .iter()
            .map(|e| (e.id.to_string(), format!("{}\n{}", e.event, e.data)))
            .collect();
        if close {
            fields.push(("closed".to_owned(), "1".to_owned()));
        }
        if fields.is_empty() {
            return Ok(());
        }
        let transaction = self.redis.pool.multi();
        let cap = ("MAXLEN", "~", self.max_entries);
        let _: Result<(), _> = transaction.xadd(&key, false, cap, "*", fields).await;
        let _: Result<(), _> = transaction.expire(&key, self.ttl_secs, None).await;
        let _: Result<(), _> = transaction
            .publish(self.redis.keys.stream_channel(stream_id), "")
            .await;
        self.count_round_trip();
        bounded(self.redis.timeout, transaction.exec::<Value>(true)).await?;
        Ok(())
    }

    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        // Watch before the first read, so an append between the two is not missed.
        let watch = self
            .notifications
            .watch(self.redis.keys.stream_channel(stream_id))
            .await
            .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
        let mut follower = Follower {
            buffer: self.clone(),
            key,
            last_entry: None,
            after,
            pending: VecDeque::new(),
            closed: false,
            watch,
            failed_reads: 0,
        };
        if !follower.read().await? {
            return Err(StreamBufferError::NotFound);
        }
        Ok(Box::pin(futures::stream::unfold(follower, Follower::next)))
    }

    async fn read(&self, stream_id: &str) -> Result<StoredStream, StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        self.count_round_trip();
        let reply: Value = bounded(
            self.redis.timeout,
            self.redis.pool.xrange(key.as_str(), "-", "+", None),
        )
        .await?;
        let entries = decode_entries(reply);
        if entries.is_empty() {
            return Err(StreamBufferError::NotFound);
        }
        let mut stored = StoredStream::default();
        for entry in entries {
            stored.events.extend(entry.events);
            stored.closed |= entry.closed;
        }
        Ok(stored)
    }

    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        if !self.exists(&self.redis.keys.stream(stream_id)).await? {
            return Err(StreamBufferError::NotFound);
        }
        self.count_round_trip();
        let _: i64 = bounded(
            self.redis.timeout,
            self.redis
                .pool
                .next()
                .publish(self.redis.keys.stops_channel(), stream_id),
        )
        .await?;
        Ok(())
    }

    fn stop_requests(&self) -> StopRequests {
        let receiver = self.notifications.stops();
        Box::pin(futures::stream::unfold(
            receiver,
            |mut receiver| async move {
                loop {
                    match receiver.recv().await {
                        Ok(stream_id) => return Some((stream_id, receiver)),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}
