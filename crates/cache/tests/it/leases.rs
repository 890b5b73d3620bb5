//! Turn leases, on both backends: the per-user cap holds across instances, a renewed lease
//! lives on, and an expired one is claimed by exactly one of the instances that sweep.

use std::sync::Arc;
use std::time::Duration;

use lia_cache::{MemoryTurnLeases, RedisTurnLeases};
use lia_domain::UserId;
use lia_domain::ports::{Lease, TurnLeases};

use crate::backends::{config, redis_cluster_url, redis_connection, redis_url};

/// Two instances' views of one lease store with `ttl`, and a name.
async fn stores(ttl: Duration) -> Vec<(&'static str, Arc<dyn TurnLeases>, Arc<dyn TurnLeases>)> {
    let memory: Arc<dyn TurnLeases> = Arc::new(MemoryTurnLeases::new(ttl));
    let mut stores = vec![("memory", Arc::clone(&memory), memory)];
    for (name, url) in [
        ("redis", redis_url()),
        ("redis-cluster", redis_cluster_url()),
    ] {
        let Some(url) = url else { continue };
        let config = config();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap();
        let one = RedisTurnLeases::new(redis_connection(&url, &config).await, ttl_ms);
        let other = RedisTurnLeases::new(redis_connection(&url, &config).await, ttl_ms);
        stores.push((name, Arc::new(one), Arc::new(other)));
    }
    stores
}

fn lease(user: i32, n: usize) -> Lease {
    Lease {
        user_id: UserId(user),
        stream_id: format!("{user}-{n}-{}", uuid::Uuid::new_v4().simple()),
    }
}

#[tokio::test]
async fn the_cap_counts_a_users_leases_on_every_instance() {
    for (name, here, there) in stores(Duration::from_secs(30)).await {
        let held: Vec<Lease> = (0..3).map(|n| lease(1, n)).collect();
        for (n, lease) in held.iter().enumerate() {
            let store = if n % 2 == 0 { &here } else { &there };
            assert!(store.acquire(lease, 3).await.unwrap(), "{name}: {n}");
        }
        assert!(
            !there.acquire(&lease(1, 3), 3).await.unwrap(),
            "{name}: over the cap"
        );
        assert!(
            here.acquire(&lease(2, 0), 3).await.unwrap(),
            "{name}: per user"
        );
        assert!(
            here.acquire(&held[0], 3).await.unwrap(),
            "{name}: a held lease is taken again, not counted twice"
        );
        there.release(&held[1]).await.unwrap();
        assert!(
            here.acquire(&lease(1, 4), 3).await.unwrap(),
            "{name}: released"
        );
        assert!(here.is_live(&held[0]).await.unwrap());
        assert!(!here.is_live(&held[1]).await.unwrap(), "{name}");
    }
}

#[tokio::test]
async fn an_expired_lease_is_claimed_once_and_a_renewed_one_is_not() {
    let ttl = Duration::from_millis(300);
    for (name, here, there) in stores(ttl).await {
        let (dying, renewed) = (lease(7, 0), lease(7, 1));
        for lease in [&dying, &renewed] {
            assert!(here.acquire(lease, 10).await.unwrap());
        }
        // The instance renews both once (which also puts them in the sweep's index), then
        // only the one it still generates.
        here.renew(&[dying.clone(), renewed.clone()]).await.unwrap();
        let mut claimed = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while claimed.is_empty() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name}: never expired"
            );
            here.renew(std::slice::from_ref(&renewed)).await.unwrap();
            // Both instances sweep at once; each expired lease goes to one of them.
            let (mine, theirs) = tokio::join!(here.claim_expired(10), there.claim_expired(10));
            claimed.extend(mine.unwrap());
            claimed.extend(theirs.unwrap());
            tokio::time::sleep(ttl / 6).await;
        }
        assert_eq!(
            claimed,
            vec![dying.stream_id.clone()],
            "{name}: claimed exactly once"
        );
        assert!(!here.is_live(&dying).await.unwrap(), "{name}");
        assert!(
            here.is_live(&renewed).await.unwrap(),
            "{name}: renewal keeps it"
        );
        assert!(there.claim_expired(10).await.unwrap().is_empty());
    }
}
