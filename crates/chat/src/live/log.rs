//! The in-memory event log of one turn generating on this instance: the generation pushes
//! events, the flusher copies them to the stream buffer in batches, and followers on this
//! instance (the HTTP response first of all) read them here, never through the buffer.
//!
//! Followers see the *released* prefix of the log: events the durable copy already holds,
//! so whatever a client has seen survives the death of this instance and a re-attach
//! elsewhere continues exactly after it. When the durable copy cannot be written (its backend
//! is down), the log is *degraded*: everything is released at once, so followers here lose
//! nothing, and the flusher catches the copy up later.
//!
//! Every operation is O(1) plus the events it copies: ids have no gaps, so an id is an index.

use std::sync::Mutex;

use lia_domain::ports::{BufferedEvent, EventStream};
use tokio::sync::{Notify, watch};

use crate::events::TurnEvent;

/// What followers may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Horizon {
    /// Events released to followers, counted from the first.
    released: usize,
    /// No event will be released after these.
    ended: bool,
}

#[derive(Debug, Default)]
struct LogState {
    events: Vec<BufferedEvent>,
    /// Events the durable copy holds.
    flushed: usize,
    /// The generation pushed its last event.
    closed: bool,
    /// The durable copy also holds the close.
    close_flushed: bool,
    /// The durable copy could not be written: release without waiting for it.
    degraded: bool,
}

/// A batch for the durable copy.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) events: Vec<BufferedEvent>,
    pub(crate) close: bool,
}

/// One turn's events. Shared between the generation, the flusher and the followers.
#[derive(Debug)]
pub(crate) struct LiveLog {
    state: Mutex<LogState>,
    horizon: watch::Sender<Horizon>,
    unflushed: Notify,
}

impl Default for LiveLog {
    fn default() -> Self {
        Self {
            state: Mutex::new(LogState::default()),
            horizon: watch::Sender::new(Horizon::default()),
            unflushed: Notify::new(),
        }
    }
}

impl LiveLog {
    /// Appends `event` with the next id and returns that id.
    pub(crate) fn push(&self, event: &TurnEvent) -> u64 {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        let id = state.events.len() as u64 + 1;
        state.events.push(event.buffered(id));
        if state.degraded {
            self.release(&state);
        }
        drop(state);
        self.unflushed.notify_one();
        id
    }

    /// The generation is over: no event follows.
    pub(crate) fn close(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.closed = true;
            if state.degraded {
                self.release(&state);
            }
        }
        self.unflushed.notify_one();
    }

    /// Waits for events (or a close) the durable copy does not hold yet, and returns them;
    /// `None` once the close itself is durable.
    pub(crate) async fn unflushed(&self) -> Option<Batch> {
        loop {
            let notified = self.unflushed.notified();
            {
                let state = self.state.lock().ok()?;
                if state.close_flushed {
                    return None;
                }
                let fresh = state.events.get(state.flushed..).unwrap_or_default();
                if !fresh.is_empty() || state.closed {
                    return Some(Batch {
                        events: fresh.to_vec(),
                        close: state.closed,
                    });
                }
            }
            notified.await;
        }
    }

    /// The durable copy now holds `batch`.
    pub(crate) fn flushed(&self, batch: &Batch) {
        if let Ok(mut state) = self.state.lock() {
            state.flushed += batch.events.len();
            state.close_flushed |= batch.close;
            self.release(&state);
        }
    }

    /// The durable copy could not be written: followers here get everything from now on.
    pub(crate) fn degrade(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.degraded = true;
            self.release(&state);
        }
    }

    fn release(&self, state: &LogState) {
        let horizon = if state.degraded {
            Horizon {
                released: state.events.len(),
                ended: state.closed,
            }
        } else {
            Horizon {
                released: state.flushed,
                ended: state.close_flushed,
            }
        };
        self.horizon.send_if_modified(|current| {
            let changed = *current != horizon;
            *current = horizon;
            changed
        });
    }

    /// Every released event after `after`, then live ones until the log ends.
    pub(crate) fn follow(self: &std::sync::Arc<Self>, after: u64) -> EventStream {
        let follower = Follower {
            log: std::sync::Arc::clone(self),
            next: usize::try_from(after).unwrap_or(usize::MAX),
            horizon: self.horizon.subscribe(),
            pending: std::collections::VecDeque::new(),
        };
        Box::pin(futures::stream::unfold(follower, Follower::next))
    }
}

struct Follower {
    log: std::sync::Arc<LiveLog>,
    /// Index of the next event to read.
    next: usize,
    horizon: watch::Receiver<Horizon>,
    pending: std::collections::VecDeque<BufferedEvent>,
}

impl Follower {
    async fn next(
        mut self,
    ) -> Option<(
        Result<BufferedEvent, lia_domain::ports::StreamBufferError>,
        Self,
    )> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((Ok(event), self));
            }
            let horizon = *self.horizon.borrow_and_update();
            if self.next < horizon.released {
                let state = self.log.state.lock().ok()?;
                let end = horizon.released.min(state.events.len());
                if let Some(fresh) = state.events.get(self.next..end) {
                    self.pending.extend(fresh.iter().cloned());
                }
                self.next = end;
                continue;
            }
            if horizon.ended || self.horizon.changed().await.is_err() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures::StreamExt;

    use super::*;

    fn chunk(text: &str) -> TurnEvent {
        TurnEvent::Chunk(text.to_owned())
    }

    #[tokio::test]
    async fn followers_see_only_what_is_durable_until_the_log_degrades() {
        let log = Arc::new(LiveLog::default());
        assert_eq!(log.push(&chunk("a")), 1);
        assert_eq!(log.push(&chunk("b")), 2);
        let mut follower = log.follow(0);
        let batch = log.unflushed().await.unwrap();
        assert_eq!((batch.events.len(), batch.close), (2, false));
        // Nothing is released before the batch is durable.
        assert!(
            futures::poll!(follower.next()).is_pending(),
            "released before flushing"
        );
        log.flushed(&batch);
        assert_eq!(follower.next().await.unwrap().unwrap().id, 1);
        assert_eq!(follower.next().await.unwrap().unwrap().id, 2);

        log.push(&chunk("c"));
        log.degrade();
        assert_eq!(follower.next().await.unwrap().unwrap().id, 3);
        log.close();
        assert!(
            follower.next().await.is_none(),
            "ends at close when degraded"
        );
        // The flusher still catches the copy up, then ends.
        let batch = log.unflushed().await.unwrap();
        assert_eq!((batch.events.len(), batch.close), (1, true));
        log.flushed(&batch);
        assert!(log.unflushed().await.is_none());
    }

    #[tokio::test]
    async fn a_late_follower_starts_after_its_id_and_ends_with_the_durable_close() {
        let log = Arc::new(LiveLog::default());
        for text in ["a", "b", "c"] {
            log.push(&chunk(text));
        }
        log.close();
        let batch = log.unflushed().await.unwrap();
        log.flushed(&batch);
        let ids: Vec<u64> = log.follow(1).map(|e| e.unwrap().id).collect().await;
        assert_eq!(ids, [2, 3]);
    }
}
