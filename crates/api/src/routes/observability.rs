//! `GET /metrics` and `GET /openapi.json`.

use std::sync::LazyLock;

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::openapi;
use crate::state::ApiState;

static DOCUMENT: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(openapi::document().to_string()));

pub(super) async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.clone())
}

/// Prometheus text. With a configured token it needs `Authorization: Bearer <token>`;
/// without one it answers only to loopback clients (an admin on the host, or a sidecar).
pub(super) async fn metrics(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    match &state.settings.metrics_token {
        Some(expected) => {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let matches = given.is_some_and(|given| {
                given.len() == expected.len()
                    && given
                        .bytes()
                        .zip(expected.bytes())
                        .fold(0, |acc, (a, b)| acc | (a ^ b))
                        == 0
            });
            if !matches {
                return Err(ApiError::Unauthorized("Authentication required".into()));
            }
        }
        None => {
            let loopback = request
                .peer_addr()
                .is_some_and(|peer| peer.ip().is_loopback());
            if !loopback {
                return Err(ApiError::NotFound("Not found"));
            }
        }
    }
    let mut text = state.metrics.render();
    if let Some(source) = &state.metrics_source {
        text.push_str(&source.render());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}
