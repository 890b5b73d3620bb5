//! One tracker for every background task: it names each task, logs and counts its failure
//! (an error or a panic), and can be drained at shutdown, so nothing is silently lost.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct Counters {
    active: AtomicUsize,
    failures: AtomicU64,
    idle: Notify,
}

/// Spawns and tracks tasks on a runtime. Cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskTracker {
    runtime: Handle,
    counters: Arc<Counters>,
}

impl TaskTracker {
    /// A tracker spawning onto `runtime`.
    #[must_use]
    pub fn new(runtime: Handle) -> Self {
        Self {
            runtime,
            counters: Arc::default(),
        }
    }

    /// Runs `task` in the background under `name`; an `Err` or a panic is logged and counted.
    pub fn spawn<F, E>(&self, name: &'static str, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let counters = Arc::clone(&self.counters);
        counters.active.fetch_add(1, Ordering::SeqCst);
        self.runtime.spawn(async move {
            let outcome = AssertUnwindSafe(task).catch_unwind().await;
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.to_string()),
                Err(_) => Some("panicked".to_owned()),
            };
            if let Some(error) = failure {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(task = name, %error, "background task failed");
            }
            if counters.active.fetch_sub(1, Ordering::SeqCst) == 1 {
                counters.idle.notify_waiters();
            }
        });
    }

    /// Tasks still running.
    #[must_use]
    pub fn active(&self) -> usize {
        self.counters.active.load(Ordering::SeqCst)
    }

    /// Tasks that failed so far (the `background_task_failures` metric).
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.counters.failures.load(Ordering::Relaxed)
    }

    /// Waits until every task has finished, or `deadline` passes; true when all finished.
    pub async fn drain(&self, deadline: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.counters.idle.notified();
                if self.active() == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(deadline, wait).await.is_ok()
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
        tracker.spawn("slow", async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<(), String>(())
        });
        assert!(tracker.drain(Duration::from_secs(5)).await);
        assert_eq!((tracker.active(), tracker.failures()), (0, 2));
        tracker.spawn("stuck", async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<(), String>(())
        });
        assert!(!tracker.drain(Duration::from_millis(20)).await);
    }
}
