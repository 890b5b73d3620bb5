//! What the middleware costs per request: the same routes served by [`lia_api::app`] (request
//! id and span, metrics, path normalisation, CORS, security headers, compression negotiation,
//! the cross-site guard) and by a bare `App` with the same routes and state and no middleware.
//! The difference between the two figures of a route is the middleware's per-request work.
//!
//! `/health/live` is the cheapest route; `/api/v1/chat/history` is a cached history read
//! (in-process cache, SQLite behind it), the most frequent request. Requests go through
//! `actix_web::test::call_service`, so no socket or HTTP parsing is counted.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use std::time::{Duration, Instant};

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use lia_api::ApiSettings;

#[path = "../tests/it/fixture.rs"]
mod fixture;

/// Runs `iterations` requests built by `request` through `app`, timing only the calls.
async fn timed<S, B>(
    app: &S,
    iterations: u64,
    request: impl Fn() -> actix_http::Request,
) -> Duration
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut elapsed = Duration::ZERO;
    for _ in 0..iterations {
        let request = request();
        let start = Instant::now();
        let response = app.call(request).await.unwrap();
        let body = actix_web::body::to_bytes(response.into_body()).await;
        elapsed += start.elapsed();
        assert!(body.is_ok());
    }
    elapsed
}

fn middleware(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let (fixture, token) = system.block_on(async {
        let fixture = fixture::fixture(ApiSettings::default()).await;
        let (user, token) = fixture.user("ada").await;
        for n in 0..20 {
            fixture
                .conversation(user, &format!("question number {n}"))
                .await;
        }
        (fixture, token)
    });
    let routes: [(&str, &str, Option<&str>); 2] = [
        ("health_live", "/health/live", None),
        ("history_cached", "/api/v1/chat/history", Some(&token)),
    ];
    let mut group = c.benchmark_group("middleware");
    for (name, path, token) in routes {
        let request = || {
            let request = TestRequest::get()
                .uri(path)
                .peer_addr("127.0.0.1:40000".parse().unwrap());
            match token {
                Some(token) => request
                    .insert_header(("Authorization", format!("Bearer {token}")))
                    .to_request(),
                None => request.to_request(),
            }
        };
        group.bench_function(format!("{name}/bare"), |b| {
            b.iter_custom(|iterations| {
                system.block_on(async {
                    let app = test::init_service(
                        App::new()
                            .app_data(fixture.state.clone())
                            .configure(lia_api::routes::configure),
                    )
                    .await;
                    timed(&app, iterations, request).await
                })
            });
        });
        group.bench_function(format!("{name}/full"), |b| {
            b.iter_custom(|iterations| {
                system.block_on(async {
                    let app = test::init_service(lia_api::app(fixture.state.clone())).await;
                    timed(&app, iterations, request).await
                })
            });
        });
    }
    group.finish();
}

criterion_group!(
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = middleware
);
criterion_main!(benches);
