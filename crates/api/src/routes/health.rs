//! Health endpoints. `/health` answers 503 when the database is down (so a load balancer
//! fails over), `/health/live` stays 200, and no raw error text is ever returned.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ApiError;
use crate::health::Probe;
use crate::state::ApiState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

struct ProbeResult {
    service: &'static str,
    kind: &'static str,
    healthy: bool,
    latency_ms: f64,
    error: Option<String>,
}

async fn run(probe: &dyn Probe) -> ProbeResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(PROBE_TIMEOUT, probe.check())
        .await
        .unwrap_or_else(|_| Err("timeout".into()));
    let latency_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    ProbeResult {
        service: probe.service(),
        kind: probe.kind(),
        healthy: outcome.is_ok(),
        latency_ms,
        error: outcome.err(),
    }
}

async fn run_all(state: &ApiState) -> Vec<ProbeResult> {
    futures::future::join_all(state.probes.iter().map(|probe| run(probe.as_ref()))).await
}

fn status_of(result: &ProbeResult) -> &'static str {
    match (result.healthy, result.service) {
        (true, _) => "healthy",
        (false, "database") => "unhealthy",
        (false, _) => "degraded",
    }
}

fn describe(result: &ProbeResult) -> Value {
    let mut details = json!({"type": result.kind});
    if let Some(error) = &result.error {
        details["error"] = json!(error);
    }
    json!({"status": status_of(result), "latency_ms": result.latency_ms, "details": details})
}

pub(super) async fn root(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": "Lia",
        "version": env!("CARGO_PKG_VERSION"),
        "status": "healthy",
        "environment": state.settings.environment,
        "timestamp": now(),
        "documentation": "/openapi.json",
    }))
}

pub(super) async fn health(state: web::Data<ApiState>) -> HttpResponse {
    let results = run_all(&state).await;
    let database_down = results
        .iter()
        .any(|r| r.service == "database" && !r.healthy);
    let overall = if database_down {
        "unhealthy"
    } else if results.iter().any(|r| !r.healthy) {
        "degraded"
    } else {
        "healthy"
    };
    let services: serde_json::Map<String, Value> = results
        .iter()
        .map(|r| (r.service.to_owned(), describe(r)))
        .collect();
    let body = json!({"status": overall, "timestamp": now(), "version": env!("CARGO_PKG_VERSION"), "services": services});
    if database_down {
        HttpResponse::ServiceUnavailable().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

pub(super) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok", "timestamp": now()}))
}

pub(super) async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    if state.draining.is_draining() {
        return HttpResponse::ServiceUnavailable().json(json!({
            "status": "not_ready", "reason": "draining", "message": "The server is shutting down", "timestamp": now()
        }));
    }
    let results = run_all(&state).await;
    match results
        .iter()
        .find(|r| r.service == "database" && !r.healthy)
    {
        None => HttpResponse::Ok().json(json!({"status": "ready", "timestamp": now()})),
        Some(result) => {
            let reason = if result.error.as_deref() == Some("timeout") {
                "database_timeout"
            } else {
                "database_unavailable"
            };
            HttpResponse::ServiceUnavailable().json(json!({
                "status": "not_ready", "reason": reason, "message": "The database is not reachable", "timestamp": now()
            }))
        }
    }
}

async fn one(state: &ApiState, service: &str) -> HttpResponse {
    let Some(probe) = state.probes.iter().find(|p| p.service() == service) else {
        return HttpResponse::Ok().json(json!({"service": service, "status": "degraded", "message": "not configured", "timestamp": now()}));
    };
    let result = run(probe.as_ref()).await;
    let mut body = json!({
        "service": service, "type": result.kind, "status": status_of(&result), "latency_ms": result.latency_ms, "timestamp": now()
    });
    if let Some(error) = &result.error {
        body["error"] = json!(error);
    }
    if service == "database" && !result.healthy {
        HttpResponse::ServiceUnavailable().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

pub(super) async fn database(state: web::Data<ApiState>) -> HttpResponse {
    one(&state, "database").await
}

pub(super) async fn cache(state: web::Data<ApiState>) -> HttpResponse {
    one(&state, "cache").await
}

/// Process facts, in debug mode only and for those who may read the operations endpoints
/// (never environment variables or paths).
pub(super) async fn info(
    request: actix_web::HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    if !state.settings.debug {
        return Err(ApiError::NotFound("Not found"));
    }
    super::observability::operations_access(&request, &state)?;
    let uptime = state.started.elapsed().as_secs();
    Ok(HttpResponse::Ok().json(json!({
        "application": {"name": "Lia", "version": env!("CARGO_PKG_VERSION"), "environment": state.settings.environment, "debug": true},
        "uptime": {
            "uptime_seconds": uptime,
            "uptime_human": format!("{}d {}h {}m {}s", uptime / 86_400, uptime / 3_600 % 24, uptime / 60 % 60, uptime % 60),
        },
        "timestamp": now(),
    })))
}

/// Every provider's circuit breaker, for those who may read the operations endpoints:
/// `{"providers": [{"name", "state": "closed"|"open"|"half_open", "consecutive_failures"}]}`.
/// The state is this instance's own (breakers are per process).
pub(super) async fn providers(
    request: actix_web::HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    super::observability::operations_access(&request, &state)?;
    let circuits = state
        .chat
        .as_ref()
        .map(|chat| chat.llm().circuits())
        .unwrap_or_default();
    let providers: Vec<_> = circuits
        .into_iter()
        .map(|(name, circuit, failures)| {
            json!({"name": name, "state": circuit, "consecutive_failures": failures})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "providers": providers })))
}
