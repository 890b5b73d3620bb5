//! A small closed-loop load generator: `concurrency` clients each send the next request as
//! soon as the previous one finished, until a request count or a deadline is reached.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures::StreamExt;
use serde_json::{Value, json};

/// What one scenario sends.
#[derive(Clone)]
pub(crate) struct Scenario {
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
    tokens: Vec<String>,
    /// Read the event stream and time its first `chunk`.
    stream: bool,
}

impl Scenario {
    pub(crate) fn get(base: &str, path: String) -> Self {
        Self {
            method: reqwest::Method::GET,
            url: format!("{base}{path}"),
            body: None,
            tokens: Vec::new(),
            stream: false,
        }
    }

    pub(crate) fn login(base: &str) -> Self {
        let body = json!({"email": "user0@example.com", "password": crate::seed::SEED_PASSWORD});
        Self {
            method: reqwest::Method::POST,
            url: format!("{base}/api/v1/auth/login"),
            body: Some(body),
            tokens: Vec::new(),
            stream: false,
        }
    }

    pub(crate) fn chat(base: &str, provider: &str) -> Self {
        Self::chat_with(base, provider, "gpt-4o", "lexicon")
    }

    pub(crate) fn chat_with(base: &str, provider: &str, model: &str, method: &str) -> Self {
        let body = json!({"message": "I am so happy about my new garden!", "provider": provider, "model": model, "sentiment_method": method});
        Self {
            method: reqwest::Method::POST,
            url: format!("{base}/api/v1/chat/stream"),
            body: Some(body),
            tokens: Vec::new(),
            stream: true,
        }
    }

    pub(crate) fn with_tokens(mut self, tokens: &[String]) -> Self {
        self.tokens = tokens.to_vec();
        self
    }

    /// Sends one streaming request as client `index` and reads until its first `chunk`;
    /// returns the still-open body, so the stream stays open while it is held.
    pub(crate) async fn open_until_first_chunk(
        &self,
        client: &reqwest::Client,
        index: usize,
    ) -> Result<impl Send + use<>> {
        let mut request = client.request(self.method.clone(), &self.url);
        if let Some(token) = self.tokens.get(index % self.tokens.len().max(1)) {
            request = request.header("Cookie", format!("access_token={token}"));
        }
        if let Some(body) = &self.body {
            request = request.json(body);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            bail!("stream {index} answered {}", response.status());
        }
        let mut body = response.bytes_stream();
        let mut seen = String::new();
        while let Some(piece) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&piece?));
            if seen.contains("event: chunk") {
                return Ok(body);
            }
        }
        bail!("stream {index} ended before its first chunk")
    }
}

/// The measurements of one scenario.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) requests: usize,
    pub(crate) errors: usize,
    latencies_ms: Vec<f64>,
    first_chunk_ms: Vec<f64>,
    elapsed: Duration,
}

fn percentile_of(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

impl Outcome {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn percentile(&self, q: f64) -> f64 {
        percentile_of(&self.latencies_ms, q)
    }

    pub(crate) fn first_chunk_percentile(&self, q: f64) -> Option<f64> {
        (!self.first_chunk_ms.is_empty()).then(|| percentile_of(&self.first_chunk_ms, q))
    }

    pub(crate) fn error_rate(&self) -> f64 {
        self.errors as f64 / (self.requests.max(1)) as f64
    }

    pub(crate) fn summary(&self) -> Value {
        json!({
            "requests": self.requests, "errors": self.errors, "requests_per_second": self.per_second(),
            "p50_ms": self.percentile(0.5), "p95_ms": self.percentile(0.95), "p99_ms": self.percentile(0.99),
            "first_chunk_p50_ms": self.first_chunk_percentile(0.5), "first_chunk_p95_ms": self.first_chunk_percentile(0.95),
        })
    }
}

/// Sends one request; returns (ok, latency, time to first chunk).
async fn once(
    client: &reqwest::Client,
    scenario: &Scenario,
    token: Option<&String>,
) -> (bool, Duration, Option<Duration>) {
    let started = Instant::now();
    let mut request = client.request(scenario.method.clone(), &scenario.url);
    if let Some(token) = token {
        request = request.header("Cookie", format!("access_token={token}"));
    }
    if let Some(body) = &scenario.body {
        request = request.json(body);
    }
    let Ok(response) = request.send().await else {
        return (false, started.elapsed(), None);
    };
    let ok = response.status().is_success();
    if !scenario.stream {
        let _ = response.bytes().await;
        return (ok, started.elapsed(), None);
    }
    let mut first_chunk = None;
    let mut seen = String::new();
    let mut body = response.bytes_stream();
    let mut stream_ok = ok;
    while let Some(piece) = body.next().await {
        let Ok(piece) = piece else {
            stream_ok = false;
            break;
        };
        seen.push_str(&String::from_utf8_lossy(&piece));
        if first_chunk.is_none() && seen.contains("event: chunk") {
            first_chunk = Some(started.elapsed());
        }
    }
    (
        stream_ok && seen.contains("event: done"),
        started.elapsed(),
        first_chunk,
    )
}

/// Runs `scenario` with `concurrency` clients until `max_requests` or `deadline`.
pub(crate) async fn run(
    client: &reqwest::Client,
    scenario: Scenario,
    concurrency: usize,
    max_requests: usize,
    deadline: Duration,
) -> Outcome {
    let started = Instant::now();
    let issued = Arc::new(AtomicUsize::new(0));
    let scenario = Arc::new(scenario);
    let workers = (0..concurrency).map(|worker| {
        let (client, scenario, issued) =
            (client.clone(), Arc::clone(&scenario), Arc::clone(&issued));
        async move {
            let mut results = Vec::new();
            while started.elapsed() < deadline
                && issued.fetch_add(1, Ordering::SeqCst) < max_requests
            {
                let token = (!scenario.tokens.is_empty())
                    .then(|| &scenario.tokens[worker % scenario.tokens.len()]);
                results.push(once(&client, &scenario, token).await);
            }
            results
        }
    });
    let results: Vec<_> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flatten()
        .collect();
    Outcome::from_results(started.elapsed(), results)
}

impl Outcome {
    /// The outcome of requests that took `elapsed` in all; each result is (ok, latency, time
    /// to the first chunk).
    pub(crate) fn from_results(
        elapsed: Duration,
        results: Vec<(bool, Duration, Option<Duration>)>,
    ) -> Self {
        let mut outcome = Outcome {
            elapsed,
            ..Outcome::default()
        };
        outcome.add(results);
        outcome
    }

    fn add(&mut self, results: Vec<(bool, Duration, Option<Duration>)>) {
        let outcome = self;
        for (ok, latency, first_chunk) in results {
            outcome.requests += 1;
            outcome.errors += usize::from(!ok);
            outcome.latencies_ms.push(latency.as_secs_f64() * 1e3);
            if let Some(first) = first_chunk {
                outcome.first_chunk_ms.push(first.as_secs_f64() * 1e3);
            }
        }
        outcome.latencies_ms.sort_by(f64::total_cmp);
        outcome.first_chunk_ms.sort_by(f64::total_cmp);
    }
}

/// Signs in every seeded user once.
pub(crate) async fn login_all(
    client: &reqwest::Client,
    base: &str,
    users: usize,
) -> Result<Vec<String>> {
    let mut tokens = Vec::with_capacity(users);
    for i in 0..users {
        let body = json!({"email": format!("user{i}@example.com"), "password": crate::seed::SEED_PASSWORD});
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&body)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("login of user{i} failed: {}", response.status());
        }
        let value: Value = response.json().await?;
        tokens.push(
            value["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    Ok(tokens)
}
