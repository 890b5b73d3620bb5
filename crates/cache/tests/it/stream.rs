//! The stream buffer, on both backends: replay after an id, live follow, end at close,
//! batches without gaps or duplicates, stop requests pushed to every instance, a cost per
//! append that does not grow with the number of streams, followers that do not wait for
//! each other, and (in process) retention bounded in bytes and time.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lia_cache::{MemoryStreamBuffer, MemoryStreamLimits, RateLimitConfig};
use lia_domain::ports::{BufferedEvent, StreamBuffer, StreamBufferError};

use crate::backends::backends;

fn event(id: u64) -> BufferedEvent {
    BufferedEvent {
        id,
        event: "chunk".into(),
        data: format!("{{\"content\":\"{id}\"}}"),
    }
}

fn events(ids: std::ops::RangeInclusive<u64>) -> Vec<BufferedEvent> {
    ids.map(event).collect()
}

fn new_stream() -> String {
    format!("1-{}", uuid::Uuid::new_v4().simple())
}

/// Bounds a wait that must finish; the bound only turns a hang into a failure.
async fn soon<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("timed out")
}

async fn ids_after(buffer: &dyn StreamBuffer, stream_id: &str, after: u64) -> Vec<u64> {
    soon(
        buffer
            .follow(stream_id, after)
            .await
            .unwrap()
            .map(|e| e.unwrap().id)
            .collect::<Vec<_>>(),
    )
    .await
}

#[tokio::test]
async fn followers_replay_after_an_id_then_follow_live_until_close() {
    for backend in backends(RateLimitConfig::default()).await {
        let name = backend.name;
        let stream_id = new_stream();
        backend
            .buffer
            .append(&stream_id, &events(1..=3), false)
            .await
            .unwrap();
        // The other instance follows live from id 1.
        let mut follower = backend.other_instance.follow(&stream_id, 1).await.unwrap();
        assert_eq!(
            soon(follower.next()).await.unwrap().unwrap().id,
            2,
            "{name}"
        );
        assert_eq!(soon(follower.next()).await.unwrap().unwrap().id, 3);

        let (appended, wait_for_append) = tokio::sync::oneshot::channel();
        let writer = backend.buffer.clone();
        let live_id = stream_id.clone();
        let producer = tokio::spawn(async move {
            wait_for_append.await.unwrap();
            writer.append(&live_id, &[event(4)], true).await.unwrap();
        });
        let pending = follower.next();
        tokio::pin!(pending);
        assert!(futures::poll!(&mut pending).is_pending(), "{name}: waits");
        appended.send(()).unwrap();
        assert_eq!(soon(pending).await.unwrap().unwrap(), event(4), "{name}");
        assert!(
            soon(follower.next()).await.is_none(),
            "{name}: ends at close"
        );
        producer.await.unwrap();

        assert_eq!(
            ids_after(backend.buffer.as_ref(), &stream_id, 0).await,
            [1, 2, 3, 4]
        );
        let stored = backend.buffer.read(&stream_id).await.unwrap();
        assert_eq!(
            (stored.events, stored.closed),
            (events(1..=4), true),
            "{name}"
        );
        for unknown in [
            backend.buffer.follow("1-unknown", 0).await.err(),
            backend.buffer.read("1-unknown").await.err(),
        ] {
            assert!(
                matches!(unknown, Some(StreamBufferError::NotFound)),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn batches_replay_in_order_with_no_gap_or_duplicate_across_their_boundaries() {
    for backend in backends(RateLimitConfig::default()).await {
        let name = backend.name;
        let stream_id = new_stream();
        backend
            .buffer
            .append(&stream_id, &events(1..=3), false)
            .await
            .unwrap();
        let live = backend.other_instance.follow(&stream_id, 2).await.unwrap();
        for (batch, close) in [
            (events(4..=7), false),
            (events(8..=8), false),
            (vec![], true),
        ] {
            backend
                .buffer
                .append(&stream_id, &batch, close)
                .await
                .unwrap();
        }
        let live: Vec<u64> = soon(live.map(|e| e.unwrap().id).collect::<Vec<_>>()).await;
        assert_eq!(live, (3..=8).collect::<Vec<_>>(), "{name}: live");
        for after in 0..=8 {
            assert_eq!(
                ids_after(backend.other_instance.as_ref(), &stream_id, after).await,
                ((after + 1)..=8).collect::<Vec<_>>(),
                "{name}: replay after {after}"
            );
        }
    }
}

#[tokio::test]
async fn a_stop_request_is_pushed_to_every_instance() {
    for backend in backends(RateLimitConfig::default()).await {
        let name = backend.name;
        let stream_id = new_stream();
        assert!(
            matches!(
                backend.buffer.request_stop(&stream_id).await,
                Err(StreamBufferError::NotFound)
            ),
            "{name}"
        );
        let mut here = backend.buffer.stop_requests();
        let mut there = backend.other_instance.stop_requests();
        backend
            .buffer
            .append(&stream_id, &[event(1)], false)
            .await
            .unwrap();
        // Subscriptions are asynchronous on Redis: ask until the other instance hears it.
        let heard_there = soon(async {
            loop {
                backend.buffer.request_stop(&stream_id).await.unwrap();
                if let Ok(Some(id)) =
                    tokio::time::timeout(Duration::from_millis(200), there.next()).await
                {
                    return id;
                }
            }
        })
        .await;
        assert_eq!(heard_there, stream_id, "{name}");
        assert_eq!(soon(here.next()).await.unwrap(), stream_id, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_streams_cost_the_same_per_append() {
    const STREAMS: usize = 10_000;
    const SAMPLE: usize = 500;
    for backend in backends(RateLimitConfig::default()).await {
        let name = backend.name;
        let ids: Vec<String> = (0..STREAMS).map(|_| new_stream()).collect();
        let mut samples = Vec::new();
        for (index, stream_id) in ids.iter().enumerate() {
            let before = (backend.buffer_work)();
            backend
                .buffer
                .append(stream_id, &events(1..=2), true)
                .await
                .unwrap();
            if !(SAMPLE..STREAMS - SAMPLE).contains(&index) {
                samples.push((backend.buffer_work)() - before);
            }
        }
        let (first, last) = samples.split_at(SAMPLE);
        assert_eq!(
            first.iter().max(),
            last.iter().max(),
            "{name}: the work of an append grows with the streams held"
        );
        assert!(
            last.iter().all(|&work| work <= 3),
            "{name}: constant work per append: {:?}",
            &last[..5]
        );
        // Every one of them is followed to its end.
        let followed = futures::stream::iter(&ids)
            .map(|id| {
                let buffer = Arc::clone(&backend.buffer);
                async move { ids_after(buffer.as_ref(), id, 0).await }
            })
            .buffer_unordered(64)
            .filter(|ids| futures::future::ready(ids == &[1, 2]))
            .count()
            .await;
        assert_eq!(followed, STREAMS, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_followers_all_progress_while_one_is_slow() {
    const FOLLOWERS: usize = 200;
    const ROUNDS: u64 = 5;
    for backend in backends(RateLimitConfig::default()).await {
        let name = backend.name;
        let ids: Vec<String> = (0..FOLLOWERS).map(|_| new_stream()).collect();
        for id in &ids {
            backend.buffer.append(id, &[event(1)], false).await.unwrap();
        }
        let mut followers = Vec::new();
        for id in &ids {
            followers.push(backend.other_instance.follow(id, 0).await.unwrap());
        }
        // The slow one reads its first event and then nothing for the whole test.
        let mut slow = followers.remove(0);
        assert_eq!(soon(slow.next()).await.unwrap().unwrap().id, 1);
        let readers: Vec<_> = followers
            .into_iter()
            .map(|follower| {
                tokio::spawn(async move {
                    follower
                        .map(|e| e.unwrap().id)
                        .take(usize::try_from(ROUNDS + 1).unwrap())
                        .collect::<Vec<_>>()
                        .await
                })
            })
            .collect();
        for round in 2..=ROUNDS + 1 {
            for id in &ids {
                backend
                    .buffer
                    .append(id, &[event(round)], round == ROUNDS + 1)
                    .await
                    .unwrap();
            }
        }
        for reader in readers {
            assert_eq!(
                soon(reader).await.unwrap(),
                (1..=ROUNDS + 1).collect::<Vec<_>>(),
                "{name}"
            );
        }
        // The slow follower lost nothing either.
        let rest: Vec<u64> = soon(slow.map(|e| e.unwrap().id).collect::<Vec<_>>()).await;
        assert_eq!(rest, (2..=ROUNDS + 1).collect::<Vec<_>>(), "{name}");
    }
}

fn bytes_of(events: &[BufferedEvent]) -> usize {
    events.iter().map(BufferedEvent::accounted_bytes).sum()
}

#[tokio::test]
async fn retention_by_bytes_evicts_the_oldest_finished_stream_first_and_never_an_open_one() {
    let batch = events(1..=4);
    // What one stream of this batch accounts for (its events and its own overhead).
    let probe = MemoryStreamBuffer::new(MemoryStreamLimits::default());
    probe.append(&new_stream(), &batch, true).await.unwrap();
    let per_stream = probe.bytes();
    assert!(
        per_stream > bytes_of(&batch),
        "a stream costs more than its events"
    );
    let buffer = MemoryStreamBuffer::new(MemoryStreamLimits {
        max_bytes: per_stream * 3,
        ..MemoryStreamLimits::default()
    });
    let (open, oldest, newer) = (new_stream(), new_stream(), new_stream());
    buffer.append(&open, &batch, false).await.unwrap();
    buffer.append(&oldest, &batch, true).await.unwrap();
    buffer.append(&newer, &batch, true).await.unwrap();
    assert_eq!(buffer.bytes(), per_stream * 3);

    let fourth = new_stream();
    buffer.append(&fourth, &batch, false).await.unwrap();
    assert!(
        matches!(buffer.read(&oldest).await, Err(StreamBufferError::NotFound)),
        "the oldest finished stream goes first"
    );
    assert!(buffer.read(&newer).await.is_ok());
    assert!(buffer.read(&open).await.is_ok());
    assert!(buffer.bytes() <= per_stream * 3);

    // Only open streams and one finished: the finished one goes, then appends are refused.
    let fifth = new_stream();
    buffer.append(&fifth, &batch, false).await.unwrap();
    assert!(matches!(
        buffer.read(&newer).await,
        Err(StreamBufferError::NotFound)
    ));
    assert!(matches!(
        buffer.append(&new_stream(), &batch, false).await,
        Err(StreamBufferError::Unavailable(_))
    ));
    for still_open in [&open, &fourth, &fifth] {
        assert_eq!(buffer.read(still_open).await.unwrap().events, batch);
    }
    assert!(buffer.bytes() <= per_stream * 3);
}

#[tokio::test(start_paused = true)]
async fn finished_streams_expire_after_their_retention_and_open_ones_stay() {
    let buffer = MemoryStreamBuffer::new(MemoryStreamLimits {
        ttl: Duration::from_secs(600),
        ..MemoryStreamLimits::default()
    });
    let (finished, open) = (new_stream(), new_stream());
    buffer.append(&finished, &[event(1)], true).await.unwrap();
    buffer.append(&open, &[event(1)], false).await.unwrap();
    tokio::time::advance(Duration::from_secs(599)).await;
    assert!(
        buffer.read(&finished).await.is_ok(),
        "still within retention"
    );
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(matches!(
        buffer.read(&finished).await,
        Err(StreamBufferError::NotFound)
    ));
    assert!(buffer.read(&open).await.is_ok());
    assert_eq!(buffer.streams(), 1);
}
