//! SSE payload serialisation: serde_json against simd-json on the events a turn sends (a
//! chunk, the slim sentiment, done), to choose the faster for these small payloads.
#![expect(
    clippy::unwrap_used,
    reason = "benchmark set-up: a failure should abort the run"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use serde::Serialize;

#[derive(Serialize)]
struct Content<'a> {
    content: &'a str,
}

#[derive(Serialize)]
struct Slim<'a> {
    score: f64,
    label: &'a str,
    emotion: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
}

#[derive(Serialize)]
struct Sentiment<'a> {
    message: Option<Slim<'a>>,
    cumulative: Option<Slim<'a>>,
}

fn payloads(c: &mut Criterion) {
    let chunk = Content {
        content: "Héllo \"wörld\", here is the next token\n",
    };
    let sentiment = Sentiment {
        message: Some(Slim {
            score: 0.5556,
            label: "Positive",
            emotion: Some("joy"),
            summary: None,
        }),
        cumulative: Some(Slim {
            score: 0.5,
            label: "Positive",
            emotion: Some("joy"),
            summary: Some("User is happy about the garden"),
        }),
    };
    assert_eq!(
        serde_json::to_string(&chunk).unwrap(),
        simd_json::to_string(&chunk).unwrap()
    );
    let mut group = c.benchmark_group("sse_payload");
    group.bench_function("chunk/serde_json", |b| {
        b.iter(|| serde_json::to_string(&chunk).unwrap())
    });
    group.bench_function("chunk/simd_json", |b| {
        b.iter(|| simd_json::to_string(&chunk).unwrap())
    });
    group.bench_function("sentiment/serde_json", |b| {
        b.iter(|| serde_json::to_string(&sentiment).unwrap())
    });
    group.bench_function("sentiment/simd_json", |b| {
        b.iter(|| simd_json::to_string(&sentiment).unwrap())
    });
    group.finish();
}

criterion_group!(benches, payloads);
criterion_main!(benches);
