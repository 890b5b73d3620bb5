//! One publish-subscribe connection per instance, shared by every remote follower and by the
//! stop listener. A writer publishes on a stream's channel after each batch it appends; the
//! dispatcher turns each message into a wake-up of that stream's local followers, which then
//! read the new entries with one non-blocking `XRANGE` each. No follower holds a connection,
//! and a slow follower holds up nobody.
//!
//! Subscriptions are reference counted: the first follower of a stream subscribes, the last
//! one to leave unsubscribes. After a reconnect fred re-subscribes
//! (`manage_subscriptions`) and every follower is woken, so nothing published meanwhile is
//! missed for long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fred::clients::SubscriberClient;
use fred::interfaces::{EventInterface, PubsubInterface};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::{CancellationToken, DropGuard};

/// Wake-ups by channel: a counter per channel that followers watch.
#[derive(Debug, Default)]
struct Channels {
    watched: HashMap<String, (watch::Sender<u64>, usize)>,
}

impl Channels {
    fn wake(&mut self, channel: &str) {
        if let Some((sender, _)) = self.watched.get(channel) {
            sender.send_modify(|n| *n += 1);
        }
    }

    fn wake_all(&mut self) {
        for (sender, _) in self.watched.values() {
            sender.send_modify(|n| *n += 1);
        }
    }
}

/// The instance's subscriber and what it dispatches to.
#[derive(Debug)]
pub(crate) struct Notifications {
    subscriber: SubscriberClient,
    channels: Arc<Mutex<Channels>>,
    stops: broadcast::Sender<String>,
    _dispatcher: DropGuard,
}

/// Wakes a follower whenever its stream's channel gets a message; unsubscribes when the
/// last follower of the channel drops its watch.
#[derive(Debug)]
pub(crate) struct Watch {
    pub(crate) changes: watch::Receiver<u64>,
    channel: String,
    notifications: Arc<NotificationsRef>,
}

/// What a [`Watch`] needs to unsubscribe when dropped.
#[derive(Debug)]
pub(crate) struct NotificationsRef {
    subscriber: SubscriberClient,
    channels: Arc<Mutex<Channels>>,
}

impl Notifications {
    /// Starts dispatching the messages of `subscriber` (already connected), listening for
    /// stop requests on `stops_channel`.
    pub(crate) fn start(subscriber: SubscriberClient, stops_channel: String) -> Self {
        let channels = Arc::new(Mutex::new(Channels::default()));
        let (stops, _) = broadcast::channel(1_024);
        let cancel = CancellationToken::new();
        let resubscriber = subscriber.manage_subscriptions();
        let mut messages = subscriber.message_rx();
        let mut reconnects = subscriber.reconnect_rx();
        let dispatch_channels = Arc::clone(&channels);
        let dispatch_stops = stops.clone();
        let dispatch_cancel = cancel.clone();
        let dispatch_subscriber = subscriber.clone();
        let stops_for_task = stops_channel.clone();
        // The dispatcher lives as long as these notifications (the drop guard cancels it).
        tokio::spawn(async move {
            if let Err(error) = dispatch_subscriber.subscribe(stops_for_task.as_str()).await {
                tracing::warn!(%error, "subscribing to stop requests failed; retried on reconnect");
            }
            loop {
                tokio::select! {
                    () = dispatch_cancel.cancelled() => break,
                    message = messages.recv() => match message {
                        Ok(message) if *message.channel == *stops_for_task => {
                            if let Some(stream_id) = message.value.as_string() {
                                let _ = dispatch_stops.send(stream_id);
                            }
                        }
                        Ok(message) => {
                            if let Ok(mut channels) = dispatch_channels.lock() {
                                channels.wake(&message.channel);
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if let Ok(mut channels) = dispatch_channels.lock() {
                                channels.wake_all();
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    },
                    reconnected = reconnects.recv() => {
                        if matches!(reconnected, Err(broadcast::error::RecvError::Closed)) {
                            break;
                        }
                        if let Ok(mut channels) = dispatch_channels.lock() {
                            channels.wake_all();
                        }
                    }
                }
            }
            resubscriber.abort();
        });
        Self {
            subscriber,
            channels,
            stops,
            _dispatcher: cancel.drop_guard(),
        }
    }

    /// A receiver of stop requests.
    pub(crate) fn stops(&self) -> broadcast::Receiver<String> {
        self.stops.subscribe()
    }

    /// Watches `channel`, subscribing to it if this is its first follower.
    ///
    /// # Errors
    /// When the subscription could not be made.
    pub(crate) async fn watch(&self, channel: String) -> Result<Watch, fred::error::Error> {
        let (changes, first) = {
            let mut channels = self.channels.lock().map_err(|_| poisoned())?;
            let entry = channels
                .watched
                .entry(channel.clone())
                .or_insert_with(|| (watch::Sender::new(0), 0));
            entry.1 += 1;
            (entry.0.subscribe(), entry.1 == 1)
        };
        let watch = Watch {
            changes,
            channel: channel.clone(),
            notifications: Arc::new(NotificationsRef {
                subscriber: self.subscriber.clone(),
                channels: Arc::clone(&self.channels),
            }),
        };
        if first {
            // On failure the watch is dropped, which undoes the registration.
            self.subscriber.subscribe(channel.as_str()).await?;
        }
        Ok(watch)
    }
}

fn poisoned() -> fred::error::Error {
    fred::error::Error::new(fred::error::ErrorKind::Unknown, "lock poisoned")
}

impl Drop for Watch {
    fn drop(&mut self) {
        let last = self
            .notifications
            .channels
            .lock()
            .is_ok_and(
                |mut channels| match channels.watched.get_mut(&self.channel) {
                    Some(entry) if entry.1 > 1 => {
                        entry.1 -= 1;
                        false
                    }
                    Some(_) => {
                        channels.watched.remove(&self.channel);
                        true
                    }
                    None => false,
                },
            );
        if last {
            let subscriber = self.notifications.subscriber.clone();
            let channels = Arc::clone(&self.notifications.channels);
            let channel = std::mem::take(&mut self.channel);
            // Dropping happens outside async code too; the unsubscribe is fire and forget,
            // skipped when a new follower came meanwhile (a lost race only delays that
            // follower until its periodic re-read).
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let watched_again = channels
                        .lock()
                        .is_ok_and(|channels| channels.watched.contains_key(&channel));
                    if !watched_again {
                        let _ = subscriber.unsubscribe(channel.as_str()).await;
                    }
                });
            }
        }
    }
}
