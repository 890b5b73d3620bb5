//! The turns this instance is generating or still flushing: their in-memory logs (so local
//! followers never go through the stream buffer), a stop signal per turn, and the per-user
//! count of turns generating here. Every operation is O(1): one map lookup under a short
//! lock.

mod flush;
mod log;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lia_domain::UserId;
use tokio::sync::watch;

pub(crate) use flush::{FlushPolicy, flush};
pub(crate) use log::LiveLog;

/// Why a generation is asked to end early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// Keep going.
    None,
    /// The user pressed stop.
    Stopped,
    /// The server is shutting down.
    Shutdown,
}

#[derive(Debug)]
struct LiveTurn {
    user: UserId,
    log: Arc<LiveLog>,
    interruption: watch::Sender<Interruption>,
    generating: bool,
}

#[derive(Debug, Default)]
struct Table {
    turns: HashMap<String, LiveTurn>,
    generating_per_user: HashMap<UserId, usize>,
}

impl Table {
    fn stop_generating(&mut self, stream_id: &str) {
        let Some(turn) = self.turns.get_mut(stream_id) else {
            return;
        };
        if !std::mem::replace(&mut turn.generating, false) {
            return;
        }
        if let Some(count) = self.generating_per_user.get_mut(&turn.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.generating_per_user.remove(&turn.user);
            }
        }
    }
}

/// The registry. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveTurns {
    table: Arc<Mutex<Table>>,
}

/// A registered turn: its log, its stop signal, and the guards that end its generating slot
/// and remove it from the registry.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) log: Arc<LiveLog>,
    pub(crate) interruption: watch::Receiver<Interruption>,
    pub(crate) slot: GeneratingSlot,
    pub(crate) entry: Entry,
}

/// While held, the turn counts against its user's cap and can be stopped.
#[derive(Debug)]
pub(crate) struct GeneratingSlot {
    table: Arc<Mutex<Table>>,
    stream_id: String,
}

/// While held, local followers find the turn's log here.
#[derive(Debug)]
pub(crate) struct Entry {
    table: Arc<Mutex<Table>>,
    stream_id: String,
}

impl LiveTurns {
    /// Registers `stream_id` for `user` unless `user` already has `cap` turns generating here.
    pub(crate) fn register(
        &self,
        user: UserId,
        stream_id: &str,
        cap: usize,
    ) -> Option<Registration> {
        let mut table = self.table.lock().ok()?;
        let count = table.generating_per_user.entry(user).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        let log = Arc::new(LiveLog::default());
        let (sender, receiver) = watch::channel(Interruption::None);
        table.turns.insert(
            stream_id.to_owned(),
            LiveTurn {
                user,
                log: Arc::clone(&log),
                interruption: sender,
                generating: true,
            },
        );
        Some(Registration {
            log,
            interruption: receiver,
            slot: GeneratingSlot {
                table: Arc::clone(&self.table),
                stream_id: stream_id.to_owned(),
            },
            entry: Entry {
                table: Arc::clone(&self.table),
                stream_id: stream_id.to_owned(),
            },
        })
    }

    /// The log of a turn generating or flushing here.
    pub(crate) fn log(&self, stream_id: &str) -> Option<Arc<LiveLog>> {
        let table = self.table.lock().ok()?;
        table.turns.get(stream_id).map(|turn| Arc::clone(&turn.log))
    }

    /// Asks the turn `stream_id` to stop if it is generating here (and is `user`'s, when
    /// given); false otherwise.
    pub(crate) fn stop(&self, stream_id: &str, user: Option<UserId>) -> bool {
        let Ok(table) = self.table.lock() else {
            return false;
        };
        match table.turns.get(stream_id) {
            Some(turn) if turn.generating && user.is_none_or(|user| user == turn.user) => {
                turn.interruption.send(Interruption::Stopped).is_ok()
            }
            _ => false,
        }
    }

    /// Asks every generating turn to wrap up (server shutdown).
    pub(crate) fn interrupt_all(&self) {
        if let Ok(table) = self.table.lock() {
            for turn in table.turns.values().filter(|turn| turn.generating) {
                let _ = turn.interruption.send(Interruption::Shutdown);
            }
        }
    }

    /// The owner and stream id of every turn generating here (to renew their leases).
    pub(crate) fn generating_turns(&self) -> Vec<(UserId, String)> {
        self.table.lock().map_or_else(
            |_| Vec::new(),
            |table| {
                table
                    .turns
                    .iter()
                    .filter(|(_, turn)| turn.generating)
                    .map(|(stream_id, turn)| (turn.user, stream_id.clone()))
                    .collect()
            },
        )
    }

    /// Whether `stream_id` is registered here (generating or still flushing).
    pub(crate) fn contains(&self, stream_id: &str) -> bool {
        self.table
            .lock()
            .is_ok_and(|table| table.turns.contains_key(stream_id))
    }

    /// Turns generating here now (the `active_chat_turns` metric).
    pub(crate) fn generating(&self) -> usize {
        self.table
            .lock()
            .map_or(0, |table| table.generating_per_user.values().sum())
    }
}

impl Drop for GeneratingSlot {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.lock() {
            table.stop_generating(&self.stream_id);
        }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.lock() {
            table.stop_generating(&self.stream_id);
            table.turns.remove(&self.stream_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_generating_turns_and_stops_check_the_owner() {
        let turns = LiveTurns::default();
        let ada = UserId(1);
        let first = turns.register(ada, "1-a", 2).unwrap();
        let _second = turns.register(ada, "1-b", 2).unwrap();
        assert!(turns.register(ada, "1-c", 2).is_none(), "over the cap");
        assert!(turns.register(UserId(2), "2-a", 2).is_some());
        assert!(!turns.stop("1-a", Some(UserId(2))), "not the owner");
        assert!(turns.stop("1-a", Some(ada)));
        assert_eq!(*first.interruption.borrow(), Interruption::Stopped);

        // Done generating, still flushing: the slot is free, the log still found.
        let Registration { slot, entry, .. } = first;
        drop(slot);
        assert!(turns.register(ada, "1-c", 2).is_some());
        assert!(turns.log("1-a").is_some());
        assert!(!turns.stop("1-a", None), "no longer generating");
        drop(entry);
        assert!(turns.log("1-a").is_none());
    }
}
