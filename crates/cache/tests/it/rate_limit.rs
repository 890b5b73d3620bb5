//! Rate limiting: exactness under concurrency, per-key isolation, retry-after.

use lia_cache::RateLimitConfig;
use lia_domain::ports::RateLimitScope;

use crate::backends::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_callers_get_exactly_the_limit() {
    let limits = RateLimitConfig {
        auth_per_window: 10,
        ..RateLimitConfig::default()
    };
    for backend in backends(limits).await {
        let key = format!("ip-{}", uuid::Uuid::new_v4());
        let callers = (0..50).map(|_| {
            let limiter = backend.limiter.clone();
            let key = key.clone();
            tokio::spawn(async move { limiter.check(RateLimitScope::Auth, &key).await.unwrap() })
        });
        let decisions: Vec<_> = futures::future::join_all(callers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let allowed = decisions.iter().filter(|d| d.allowed).count();
        assert_eq!(allowed, 10, "{}", backend.name);
        let rejected = decisions.iter().find(|d| !d.allowed).unwrap();
        assert!(rejected.retry_after.as_secs_f64() > 0.0 && rejected.retry_after.as_secs() <= 60);
        let other = backend
            .limiter
            .check(RateLimitScope::Auth, "another-key")
            .await
            .unwrap();
        assert!(
            other.allowed && other.remaining == 9,
            "{}: keys are independent",
            backend.name
        );
        let chat = backend
            .limiter
            .check(RateLimitScope::Chat, &key)
            .await
            .unwrap();
        assert!(chat.allowed, "{}: scopes are independent", backend.name);
    }
}

#[tokio::test]
async fn disabled_limits_admit_everything() {
    let limits = RateLimitConfig {
        enabled: false,
        auth_per_window: 1,
        ..RateLimitConfig::default()
    };
    for backend in backends(limits).await {
        for _ in 0..5 {
            assert!(
                backend
                    .limiter
                    .check(RateLimitScope::Auth, "k")
                    .await
                    .unwrap()
                    .allowed
            );
        }
    }
}
