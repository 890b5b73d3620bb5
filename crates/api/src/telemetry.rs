//! Per-request telemetry: a request id (the client's `X-Request-ID` when it is a sane token,
//! else a new UUID) echoed back, a tracing span carrying it, and latency and status recorded
//! by route.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use tracing::Instrument;

use crate::state::ApiState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-supplied id is kept when it is 1–128 characters of letters, digits, `-`, `_`, `.`.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The middleware. The route label comes from the routing result after the handler ran
/// (every resource is named after its pattern), so it costs neither a second match nor an
/// allocation; the span gets it then, and the "request finished" line carries it.
pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let mut generated = [0_u8; uuid::fmt::Hyphenated::LENGTH];
    let request_id: &str = match request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| acceptable(id))
    {
        Some(id) => id,
        None => uuid::Uuid::new_v4()
            .hyphenated()
            .encode_lower(&mut generated),
    };
    // Checked above or generated: visible ASCII either way.
    let echoed = HeaderValue::from_str(request_id).ok();
    // Bounded: a client can invent methods, and each would otherwise be a series of its own.
    let method = crate::metrics::method_label(request.method().as_str());
    let metrics = request
        .app_data::<web::Data<ApiState>>()
        .map(|state| state.metrics.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = tracing::field::Empty
    );
    let mut response = next.call(request).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let route = response.request().match_name().unwrap_or("unmatched");
    span.record("route", route);
    if let Some(metrics) = metrics {
        metrics.record(route, method, status, elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1_000.0,
            "request finished"
        )
    });
    if let Some(value) = echoed {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable(""));
        assert!(!acceptable("has space"));
        assert!(!acceptable(&"x".repeat(129)));
        assert!(!acceptable("new\nline"));
    }
}
