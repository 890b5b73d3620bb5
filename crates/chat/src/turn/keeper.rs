//! The lease keeper, one service loop per instance: every `lease_renew_ms` it renews the
//! leases of the turns generating here (one round trip for all of them) and sweeps for
//! turns whose lease expired, which it recovers; every `orphan_scan_secs` (and at start-up)
//! it also checks the database's turn records for orphans no lease covers.

use std::time::Duration;

use lia_domain::ports::Lease;

use super::{ChatService, recovery};

/// Turns claimed per sweep.
const CLAIMS_PER_SWEEP: usize = 32;

pub(super) fn start(service: &ChatService) {
    let service = service.clone();
    let shutdown = service.inner.tracker.shutdown_token().clone();
    let tracker = service.inner.tracker.clone();
    tracker.spawn_loop("lease_keeper", async move {
        let config = &service.inner.config;
        let mut renewals =
            tokio::time::interval(Duration::from_millis(config.lease_renew_ms.max(10)));
        renewals.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut scans = tokio::time::interval(Duration::from_secs(config.orphan_scan_secs.max(1)));
        scans.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok::<(), String>(()),
                _ = renewals.tick() => {
                    renew(&service).await;
                    sweep(&service).await;
                }
                // The first tick is immediate: orphans of a previous process are recovered at
                // start-up.
                _ = scans.tick() => scan(&service).await,
            }
        }
    });
}

async fn renew(service: &ChatService) {
    let leases: Vec<Lease> = service
        .inner
        .live
        .generating_turns()
        .into_iter()
        .map(|(user_id, stream_id)| Lease { user_id, stream_id })
        .collect();
    if let Err(error) = service.inner.leases.renew(&leases).await {
        tracing::warn!(%error, n_turns = leases.len(), "renewing turn leases failed");
    }
}

/// Recovers the turns whose lease expired (their instance stopped renewing).
async fn sweep(service: &ChatService) {
    let claimed = match service.inner.leases.claim_expired(CLAIMS_PER_SWEEP).await {
        Ok(claimed) => claimed,
        Err(error) => {
            tracing::debug!(%error, "sweeping turn leases failed");
            return;
        }
    };
    for stream_id in claimed {
        if service.inner.tracker.shutdown_token().is_cancelled() {
            return;
        }
        if service.inner.live.contains(&stream_id) {
            // Ours after all (a renewal was late): it goes on, and the next renewal puts its
            // lease back.
            continue;
        }
        recovery::recover(service, &stream_id).await;
    }
}

/// Recovers the recorded turns that nothing covers: not generating here, and without a
/// live lease (with leases seen only by this process, any such record is an orphan of an
/// earlier process; with shared leases, only one older than a lease's lifetime).
async fn scan(service: &ChatService) {
    let inner = &service.inner;
    let records = match inner.repository.active_turns().await {
        Ok(records) => records,
        Err(error) => {
            tracing::warn!(%error, "reading the turn records failed");
            return;
        }
    };
    let shared = inner.leases.shared();
    let settled =
        time::Duration::milliseconds(i64::try_from(inner.config.lease_ttl_ms).unwrap_or(i64::MAX));
    let now = lia_domain::clock::now_utc();
    for record in records {
        if inner.tracker.shutdown_token().is_cancelled() {
            return;
        }
        if inner.live.contains(&record.stream_id) {
            continue;
        }
        if shared {
            if now - record.started_at < settled {
                continue;
            }
            let lease = Lease {
                user_id: record.user_id,
                stream_id: record.stream_id.clone(),
            };
            if inner.leases.is_live(&lease).await.unwrap_or(true) {
                continue;
            }
        }
        recovery::recover(service, &record.stream_id).await;
    }
}
