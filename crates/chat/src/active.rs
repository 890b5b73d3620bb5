//! The turns generating right now: a per-user cap, and a stop signal per turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use lia_domain::UserId;
use tokio::sync::watch;

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

#[derive(Debug, Default)]
struct Table {
    per_user: HashMap<UserId, usize>,
    signals: HashMap<String, (UserId, watch::Sender<Interruption>)>,
}

/// Shared registry of active turns.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveTurns {
    table: Arc<Mutex<Table>>,
}

/// Holds a user's slot until dropped.
#[derive(Debug)]
pub(crate) struct TurnSlot {
    table: Arc<Mutex<Table>>,
    user: UserId,
    stream_id: String,
    pub(crate) interruption: watch::Receiver<Interruption>,
}

impl ActiveTurns {
    /// Takes one of `user`'s `cap` slots for `stream_id`, or `None` when all are taken.
    pub(crate) fn acquire(&self, user: UserId, stream_id: &str, cap: usize) -> Option<TurnSlot> {
        let mut table = self.table.lock().ok()?;
        let count = table.per_user.entry(user).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        let (sender, receiver) = watch::channel(Interruption::None);
        table.signals.insert(stream_id.to_owned(), (user, sender));
        Some(TurnSlot {
            table: Arc::clone(&self.table),
            user,
            stream_id: stream_id.to_owned(),
            interruption: receiver,
        })
    }

    /// Asks `user`'s turn `stream_id` to stop; false when no such turn is generating here.
    pub(crate) fn stop(&self, user: UserId, stream_id: &str) -> bool {
        let Ok(table) = self.table.lock() else {
            return false;
        };
        match table.signals.get(stream_id) {
            Some((owner, sender)) if *owner == user => sender.send(Interruption::Stopped).is_ok(),
            _ => false,
        }
    }

    /// Asks every turn to wrap up (server shutdown).
    pub(crate) fn interrupt_all(&self) {
        if let Ok(table) = self.table.lock() {
            for (_, sender) in table.signals.values() {
                let _ = sender.send(Interruption::Shutdown);
            }
        }
    }

    /// Turns generating now (the `active_chat_turns` metric).
    pub(crate) fn count(&self) -> usize {
        self.table.lock().map_or(0, |table| table.signals.len())
    }
}

impl Drop for TurnSlot {
    fn drop(&mut self) {
        if let Ok(mut table) = self.table.lock() {
            table.signals.remove(&self.stream_id);
            if let Some(count) = table.per_user.get_mut(&self.user) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    table.per_user.remove(&self.user);
                }
            }
        }
    }
}
