//! [`StreamBuffer`] over Redis Streams: each chat turn's events are appended (bounded with
//! `MAXLEN ~`, expiring) to one stream, read back after a given event id, and followed live
//! with blocking `XREAD`, so a client can re-attach through any server instance. A final
//! `closed` entry tells followers the turn is over.

use std::collections::{HashMap, VecDeque};

use async_trait::async_trait;
use fred::prelude::{Expiration, KeysInterface, StreamsInterface, TransactionInterface, Value};
use fred::types::streams::XReadResponse;
use lia_domain::ports::{BufferedEvent, EventStream, StreamBuffer, StreamBufferError};

use super::RedisConnection;

/// How long one blocking read waits before checking again.
const BLOCK_MS: u64 = 1_000;

/// The Redis stream buffer.
#[derive(Debug, Clone)]
pub struct RedisStreamBuffer {
    redis: RedisConnection,
    max_events: u64,
    ttl_secs: i64,
}

impl RedisStreamBuffer {
    /// A buffer over `redis` keeping about `max_events` per stream for `ttl_secs`.
    #[must_use]
    pub fn new(redis: RedisConnection, max_events: u64, ttl_secs: u64) -> Self {
        Self {
            redis,
            max_events: max_events.max(1),
            ttl_secs: i64::try_from(ttl_secs.max(1)).unwrap_or(i64::MAX),
        }
    }

    async fn add(
        &self,
        stream_id: &str,
        fields: Vec<(&str, String)>,
    ) -> Result<(), StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        let transaction = self.redis.pool.multi();
        let cap = (
            "MAXLEN",
            "~",
            i64::try_from(self.max_events).unwrap_or(i64::MAX),
        );
        let _: Result<(), _> = transaction.xadd(&key, false, cap, "*", fields).await;
        let _: Result<(), _> = transaction.expire(&key, self.ttl_secs, None).await;
        match tokio::time::timeout(self.redis.timeout, transaction.exec::<Value>(true)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(StreamBufferError::Unavailable(Box::new(error))),
            Err(_) => Err(StreamBufferError::Unavailable(
                "stream append timed out".into(),
            )),
        }
    }
}

type Entry = (String, HashMap<String, String>);

/// An entry as an event, `None` for the closing marker or an unreadable entry.
fn event_of(fields: &HashMap<String, String>) -> Option<BufferedEvent> {
    Some(BufferedEvent {
        id: fields.get("id")?.parse().ok()?,
        event: fields.get("event")?.clone(),
        data: fields.get("data")?.clone(),
    })
}

struct Follower {
    redis: RedisConnection,
    key: String,
    last_entry: String,
    after: u64,
    pending: VecDeque<Entry>,
}

impl Follower {
    /// The next batch of entries after `last_entry`, waiting up to `BLOCK_MS`.
    async fn read(&mut self) -> Result<(), StreamBufferError> {
        let reply: Value = self
            .redis
            .readers
            .xread(
                Some(100),
                Some(BLOCK_MS),
                self.key.as_str(),
                self.last_entry.as_str(),
            )
            .await
            .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
        if reply.is_null() {
            let exists: i64 = self
                .redis
                .pool
                .exists(self.key.as_str())
                .await
                .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
            return if exists == 0 {
                Err(StreamBufferError::NotFound)
            } else {
                Ok(())
            };
        }
        let response: XReadResponse<String, String, String, String> =
            reply
                .into_xread_response()
                .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
        for (_, entries) in response {
            self.pending.extend(entries);
        }
        Ok(())
    }
}

#[async_trait]
impl StreamBuffer for RedisStreamBuffer {
    async fn append(&self, stream_id: &str, event: BufferedEvent) -> Result<(), StreamBufferError> {
        self.add(
            stream_id,
            vec![
                ("id", event.id.to_string()),
                ("event", event.event),
                ("data", event.data),
            ],
        )
        .await
    }

    async fn close(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        self.add(stream_id, vec![("closed", "1".to_owned())]).await
    }

    async fn request_stop(&self, stream_id: &str) -> Result<(), StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        let exists = tokio::time::timeout(
            self.redis.timeout,
            self.redis.pool.exists::<i64, _>(key.as_str()),
        )
        .await
        .map_err(|_| StreamBufferError::Unavailable("stream lookup timed out".into()))?
        .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
        if exists == 0 {
            return Err(StreamBufferError::NotFound);
        }
        let set = self.redis.pool.set::<(), _, _>(
            self.redis.keys.stop(stream_id),
            "1",
            Some(Expiration::EX(self.ttl_secs)),
            None,
            false,
        );
        match tokio::time::timeout(self.redis.timeout, set).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(StreamBufferError::Unavailable(Box::new(error))),
            Err(_) => Err(StreamBufferError::Unavailable(
                "stop request timed out".into(),
            )),
        }
    }

    async fn stop_requested(&self, stream_id: &str) -> bool {
        let flag: Option<Option<String>> = self
            .redis
            .bounded(
                "stop_requested",
                self.redis.pool.get(self.redis.keys.stop(stream_id)),
            )
            .await;
        flag.flatten().is_some()
    }

    async fn follow(&self, stream_id: &str, after: u64) -> Result<EventStream, StreamBufferError> {
        let key = self.redis.keys.stream(stream_id);
        let exists = tokio::time::timeout(
            self.redis.timeout,
            self.redis.pool.exists::<i64, _>(key.as_str()),
        )
        .await
        .map_err(|_| StreamBufferError::Unavailable("stream lookup timed out".into()))?
        .map_err(|e| StreamBufferError::Unavailable(Box::new(e)))?;
        if exists == 0 {
            return Err(StreamBufferError::NotFound);
        }
        let follower = Follower {
            redis: self.redis.clone(),
            key,
            last_entry: "0-0".to_owned(),
            after,
            pending: VecDeque::new(),
        };
        Ok(Box::pin(futures::stream::unfold(
            Some(follower),
            |state| async move {
                let mut follower = state?;
                loop {
                    if let Some((entry_id, fields)) = follower.pending.pop_front() {
                        follower.last_entry = entry_id;
                        if fields.contains_key("closed") {
                            return None;
                        }
                        match event_of(&fields) {
                            Some(event) if event.id > follower.after => {
                                follower.after = event.id;
                                return Some((Ok(event), Some(follower)));
                            }
                            _ => continue,
                        }
                    }
                    match follower.read().await {
                        Ok(()) => {}
                        Err(StreamBufferError::NotFound) => return None,
                        Err(error) => return Some((Err(error), None)),
                    }
                }
            },
        )))
    }
}
