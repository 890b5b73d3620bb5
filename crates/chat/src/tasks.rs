//! One tracker for every background task: tokio-util's [`TaskTracker`](tokio_util::task::TaskTracker)
//! does the tracking and the waiting; this wrapper adds what a service needs on top: the
//! runtime tasks run on, a name per task, a logged and counted failure (an error or a
//! panic), and the split between *work* (chat turns, which shutdown lets finish) and
//! *service loops* (listeners and keepers that run for the life of the service, which watch
//! a [`CancellationToken`] and end when shutdown cancels it).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// Spawns and tracks tasks on a runtime. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskTracker {
    runtime: Handle,
    tasks: tokio_util::task::TaskTracker,
    loops: tokio_util::task::TaskTracker,
    failures: Arc<AtomicU64>,
    shutdown: CancellationToken,
}

impl TaskTracker {
    /// A tracker spawning onto `runtime`.
    #[must_use]
    pub fn new(runtime: Handle) -> Self {
        Self {
            runtime,
            tasks: tokio_util::task::TaskTracker::new(),
            loops: tokio_util::task::TaskTracker::new(),
            failures: Arc::default(),
            shutdown: CancellationToken::new(),
        }
    }

    /// Runs `task` in the background under `name`; an `Err` or a panic is logged and counted.
    pub fn spawn<F, E>(&self, name: &'static str, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        drop(self.tasks.spawn_on(self.guarded(name, task), &self.runtime));
    }

    /// Runs a loop that lives as long as the service; it must end once
    /// [`Self::shutdown_token`] is cancelled. [`Self::drain`] does not wait for it.
    pub fn spawn_loop<F, E>(&self, name: &'static str, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        drop(self.loops.spawn_on(self.guarded(name, task), &self.runtime));
    }

    fn guarded<F, E>(&self, name: &'static str, task: F) -> impl Future<Output = ()> + use<F, E>
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let failures = Arc::clone(&self.failures);
        async move {
            let outcome = AssertUnwindSafe(task).catch_unwind().await;
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.to_string()),
                Err(_) => Some("panicked".to_owned()),
            };
            if let Some(error) = failure {
                failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(task = name, %error, "background task failed");
            }
        }
    }

    /// Cancelled when shutdown begins: loops that run for the life of the service select on
    /// it and end.
    #[must_use]
    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Work tasks still running (service loops not counted).
    #[must_use]
    pub fn active(&self) -> usize {
        self.tasks.len()
    }

    /// Tasks that failed so far (the `background_task_failures` metric).
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Waits until every work task has finished, or `deadline` passes; true when all
    /// finished. The tracker keeps accepting tasks afterwards.
    pub async fn drain(&self, deadline: Duration) -> bool {
        self.tasks.close();
        let finished = tokio::time::timeout(deadline, self.tasks.wait())
            .await
            .is_ok();
        self.tasks.reopen();
        finished
    }

    /// Cancels the service loops and waits up to `deadline` for them to end.
    pub async fn stop_loops(&self, deadline: Duration) -> bool {
        self.shutdown.cancel();
        self.loops.close();
        tokio::time::timeout(deadline, self.loops.wait())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_and_panics_are_counted_and_drain_waits() {
        let tracker = TaskTracker::new(Handle::current());
        tracker.spawn("ok", async { Ok::<(), String>(()) });
        tracker.spawn("err", async { Err::<(), String>("boom".into()) });
        tracker.spawn("panic", async {
            let value: Option<u8> = None;
            if value.is_none() {
                panic!("deliberate");
            }
            Ok::<(), String>(())
        });
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        tracker.spawn("waits", async move {
            let _ = finished.await;
            Ok::<(), String>(())
        });
        assert!(!tracker.drain(Duration::from_millis(20)).await);
        drop(finish);
        assert!(tracker.drain(Duration::from_secs(5)).await);
        assert_eq!((tracker.active(), tracker.failures()), (0, 2));

        let token = tracker.shutdown_token().clone();
        tracker.spawn_loop("loop", async move {
            token.cancelled().await;
            Ok::<(), String>(())
        });
        assert!(
            tracker.drain(Duration::from_secs(5)).await,
            "drain does not wait for loops"
        );
        assert!(tracker.stop_loops(Duration::from_secs(5)).await);
    }
}
