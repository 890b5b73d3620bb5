//! The stream buffer: replay after an id, live follow, end at close, unknown streams.

use std::time::Duration;

use futures::StreamExt;
use lia_cache::RateLimitConfig;
use lia_domain::ports::{BufferedEvent, StreamBufferError};

use crate::backends::backends;

fn event(id: u64) -> BufferedEvent {
    BufferedEvent {
        id,
        event: "chunk".into(),
        data: format!("{{\"content\":\"{id}\"}}"),
    }
}

#[tokio::test]
async fn followers_replay_after_an_id_then_follow_live_until_close() {
    for backend in backends(RateLimitConfig::default()).await {
        let stream_id = format!("1-{}", uuid::Uuid::new_v4().simple());
        for id in 1..=3 {
            backend.buffer.append(&stream_id, event(id)).await.unwrap();
        }
        let mut follower = backend.buffer.follow(&stream_id, 1).await.unwrap();
        assert_eq!(
            follower.next().await.unwrap().unwrap().id,
            2,
            "{}",
            backend.name
        );
        assert_eq!(follower.next().await.unwrap().unwrap().id, 3);

        let writer = backend.buffer.clone();
        let live_id = stream_id.clone();
        let producer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer.append(&live_id, event(4)).await.unwrap();
            writer.close(&live_id).await.unwrap();
        });
        let live = tokio::time::timeout(Duration::from_secs(5), follower.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(live, event(4), "{}", backend.name);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), follower.next())
                .await
                .unwrap()
                .is_none(),
            "{}: ends at close",
            backend.name
        );
        producer.await.unwrap();

        // After the turn ended, a replay from the start gives everything, then ends.
        let replay: Vec<u64> = backend
            .buffer
            .follow(&stream_id, 0)
            .await
            .unwrap()
            .map(|e| e.unwrap().id)
            .collect()
            .await;
        assert_eq!(replay, [1, 2, 3, 4]);
        assert!(
            matches!(
                backend.buffer.follow("1-unknown", 0).await,
                Err(StreamBufferError::NotFound)
            ),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn a_stop_requested_through_the_buffer_is_seen_by_any_instance() {
    for backend in backends(RateLimitConfig::default()).await {
        let stream_id = format!("1-{}", uuid::Uuid::new_v4().simple());
        assert!(
            matches!(
                backend.buffer.request_stop(&stream_id).await,
                Err(StreamBufferError::NotFound)
            ),
            "{}",
            backend.name
        );
        backend.buffer.append(&stream_id, event(1)).await.unwrap();
        assert!(!backend.buffer.stop_requested(&stream_id).await);
        backend.buffer.request_stop(&stream_id).await.unwrap();
        assert!(
            backend.buffer.stop_requested(&stream_id).await,
            "{}",
            backend.name
        );
    }
}
