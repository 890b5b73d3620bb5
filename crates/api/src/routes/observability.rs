//! `GET /metrics` and `GET /openapi.json`.

use std::sync::LazyLock;

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::openapi;
use crate::state::ApiState;

static DOCUMENT: LazyLock<Bytes> = LazyLock::new(|| Bytes::from(openapi::document().to_string()));

pub(super) async fn openapi_document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(DOCUMENT.clone())
}

/// Who may read the operations endpoints (`/metrics`, `/health/info`): with a token, only a
/// request carrying it (`Authorization: Bearer`, compared in constant time); without one,
/// only loopback peers on the public listener, and anyone who can reach the separate
/// operations listener (`metrics.listen`). When that listener exists, the public one
/// answers 404 for them.
pub(super) fn operations_access(request: &HttpRequest, state: &ApiState) -> Result<(), ApiError> {
    let settings = &state.settings;
    if settings.operations_elsewhere && !settings.operations_listener {
        return Err(ApiError::NotFound("Not found"));
    }
    match &settings.metrics_token {
        Some(expected) if !expected.is_empty() => {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            let matches: bool = given.as_bytes().ct_eq(expected.expose().as_bytes()).into();
            if matches {
                Ok(())
            } else {
                Err(ApiError::Unauthorized("Authentication required".into()))
            }
        }
        _ if settings.operations_listener => Ok(()),
        _ => {
            let loopback = request
                .peer_addr()
                .is_some_and(|peer| peer.ip().is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(ApiError::NotFound("Not found"))
            }
        }
    }
}

/// Prometheus text, for those [`operations_access`] admits.
pub(super) async fn metrics(
    request: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    operations_access(&request, &state)?;
    Ok(HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(state.metrics.render()))
}
