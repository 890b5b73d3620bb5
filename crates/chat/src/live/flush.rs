//! The flusher: copies a turn's log to the stream buffer by group commit. At most one write
//! is in flight; when it completes, everything produced meanwhile goes in the next one. So a
//! write starts as soon as there is something to write, a fast producer gets larger batches
//! instead of more round trips, and a turn costs a handful of writes, never one per token.
//!
//! A failed write degrades the log (local followers get everything without waiting for the
//! copy) and is retried with backoff, in order, so the copy never has a gap or a duplicate;
//! the flusher gives up only after `give_up_after` of failures, or at shutdown.

use std::time::Duration;

use lia_domain::ports::StreamBuffer;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::LiveLog;

/// How the flusher retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlushPolicy {
    /// The first pause after a failed write.
    pub(crate) retry_min: Duration,
    /// The longest pause between attempts.
    pub(crate) retry_max: Duration,
    /// How long writes may keep failing before the copy is given up.
    pub(crate) give_up_after: Duration,
}

impl Default for FlushPolicy {
    fn default() -> Self {
        Self {
            retry_min: Duration::from_millis(50),
            retry_max: Duration::from_secs(2),
            give_up_after: Duration::from_secs(120),
        }
    }
}

/// Copies `log` to `buffer` until its close is durable (or the copy is given up).
pub(crate) async fn flush(
    log: &LiveLog,
    buffer: &dyn StreamBuffer,
    stream_id: &str,
    policy: FlushPolicy,
    shutdown: &CancellationToken,
) {
    let mut backoff = policy.retry_min;
    let mut failing_since: Option<Instant> = None;
    while let Some(batch) = log.unflushed().await {
        match buffer.append(stream_id, &batch.events, batch.close).await {
            Ok(()) => {
                log.flushed(&batch);
                if failing_since.take().is_some() {
                    tracing::info!(stream_id, "stream buffer caught up");
                }
                backoff = policy.retry_min;
            }
            Err(error) => {
                let since = *failing_since.get_or_insert_with(|| {
                    tracing::warn!(stream_id, %error, "stream buffer write failed; serving this turn from memory and retrying");
                    log.degrade();
                    Instant::now()
                });
                if since.elapsed() >= policy.give_up_after || shutdown.is_cancelled() {
                    tracing::error!(stream_id, %error, "giving up the stream buffer copy of this turn");
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = shutdown.cancelled() => {}
                }
                backoff = (backoff * 2).min(policy.retry_max);
            }
        }
    }
}
