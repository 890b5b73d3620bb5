//! The one place where errors become HTTP: a status and the JSON error body
//! `{"error": {"message": ..., "details"?: ...}}`. Server errors get an opaque message while
//! the cause is logged; client errors never echo the submitted input.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use lia_auth::AccountError;
use lia_domain::{RepositoryError, ValidationError};
use serde_json::{Value, json};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON.
    #[error("Malformed JSON body")]
    MalformedJson,
    /// The body is larger than allowed.
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// The body is not sent as `application/json`.
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    /// Input broke a rule; each problem names its field.
    #[error("{}", first_message(.0))]
    Validation(Vec<ValidationError>),
    /// A business rule refused the request.
    #[error("{0}")]
    BadRequest(String),
    /// No or bad credentials; the message says which.
    #[error("{0}")]
    Unauthorized(String),
    /// Refused whoever the user is (a cross-site write).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or someone else's (never told apart).
    #[error("{0}")]
    NotFound(&'static str),
    /// The route exists but not for this method.
    #[error("Method Not Allowed")]
    MethodNotAllowed,
    /// A duplicate account.
    #[error("{0}")]
    Conflict(String),
    /// The user already has the maximum of chat turns generating.
    #[error("Too many active chat turns. Wait for one to finish.")]
    TooManyActiveTurns,
    /// The user's daily token budget is spent.
    #[error("Daily token quota exhausted. It renews at midnight UTC.")]
    QuotaExceeded(lia_chat::QuotaStatus),
    /// Too many requests.
    #[error("Rate limit exceeded. Please try again later.")]
    RateLimited {
        /// When to try again.
        retry_after: Duration,
        /// The limit per window.
        limit: u32,
    },
    /// A dependency is down.
    #[error("Service temporarily unavailable. Please try again later.")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A bug or an unexpected failure.
    #[error("An internal error occurred. Please try again later.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn first_message(errors: &[ValidationError]) -> String {
    errors
        .first()
        .map_or_else(|| "Invalid request".to_owned(), ToString::to_string)
}

impl ApiError {
    /// One validation failure.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Validation(vec![ValidationError::new(field, reason)])
    }

    fn details(&self) -> Option<Value> {
        match self {
            Self::Validation(errors) => Some(json!({
                "fields": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>()
            })),
            Self::RateLimited { retry_after, .. } => {
                Some(json!({"retry_after": retry_secs(*retry_after)}))
            }
            Self::QuotaExceeded(status) => Some(json!({
                "limit": status.limit,
                "remaining": status.remaining,
                "resets_at": status.resets_at.unix_timestamp(),
            })),
            _ => None,
        }
    }
}

/// `X-Quota-Limit`, `X-Quota-Remaining` and `X-Quota-Reset` (the Unix time, in seconds, of
/// the next renewal), on every chat response while a quota applies and on its 429.
pub(crate) fn quota_headers(status: &lia_chat::QuotaStatus) -> [(HeaderName, HeaderValue); 3] {
    let number = |n: i128| HeaderValue::from(i64::try_from(n).unwrap_or(i64::MAX));
    [
        (
            HeaderName::from_static("x-quota-limit"),
            number(i128::from(status.limit)),
        ),
        (
            HeaderName::from_static("x-quota-remaining"),
            number(i128::from(status.remaining)),
        ),
        (
            HeaderName::from_static("x-quota-reset"),
            number(i128::from(status.resets_at.unix_timestamp())),
        ),
    ]
}

/// `Retry-After` of a 429 for the active-turn cap.
pub(crate) const ACTIVE_TURNS_RETRY_AFTER_SECS: u64 = 5;

/// `Retry-After` of a 503: a dependency restarting is usually back within seconds.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// Whole seconds to wait, at least one.
pub(crate) fn retry_secs(retry_after: Duration) -> u64 {
    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)
}

/// The JSON error body for `status` and `message`.
pub(crate) fn error_body(message: &str, details: Option<Value>) -> Value {
    match details {
        Some(details) => json!({"error": {"message": message, "details": details}}),
        None => json!({"error": {"message": message}}),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedJson | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } | Self::TooManyActiveTurns | Self::QuotaExceeded(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) | Self::Unavailable(cause) = self {
            tracing::error!(error = %cause, chain = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Self::RateLimited { retry_after, limit } = self {
            let seconds = retry_secs(*retry_after);
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            response.insert_header(("X-RateLimit-Limit", limit.to_string()));
            response.insert_header(("X-RateLimit-Remaining", "0"));
            response.insert_header(("X-RateLimit-Reset", seconds.to_string()));
        }
        if let Self::QuotaExceeded(status) = self {
            let now = time::OffsetDateTime::now_utc();
            let wait = (status.resets_at - now).whole_seconds().max(1);
            response.insert_header((header::RETRY_AFTER, wait.to_string()));
            for (name, value) in quota_headers(status) {
                response.insert_header((name, value));
            }
        }
        if let Self::TooManyActiveTurns = self {
            // A turn usually ends within seconds; a client that waits this long and tries
            // again is likely admitted.
            response.insert_header((
                header::RETRY_AFTER,
                ACTIVE_TURNS_RETRY_AFTER_SECS.to_string(),
            ));
        }
        if let Self::Unavailable(_) = self {
            response.insert_header((
                header::RETRY_AFTER,
                UNAVAILABLE_RETRY_AFTER_SECS.to_string(),
            ));
        }
        if matches!(self, Self::Unauthorized(_)) {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(error_body(&self.to_string(), self.details()))
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::Validation(vec![error])
    }
}

/// Encoding an answer failed: a bug, not the client's fault.
impl From<serde_json::Error> for ApiError {
    fn from(error: serde_json::Error) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<RepositoryError> for ApiError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::NotFound => Self::NotFound("Conversation not found"),
            RepositoryError::Conflict(what) => Self::Conflict(what.to_owned()),
            RepositoryError::UserGone => Self::Unauthorized("User not found".into()),
            RepositoryError::Unavailable(cause) => Self::Unavailable(cause),
            RepositoryError::Other(cause) => Self::Internal(cause),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::AlreadyExists | AccountError::Conflict => {
                Self::Conflict(error.to_string())
            }
            AccountError::InvalidCredentials
            | AccountError::Token(_)
            | AccountError::UserNotFound => Self::Unauthorized(error.to_string()),
            AccountError::PasswordTooLong => {
                Self::invalid("password", "must be at most 1000 characters")
            }
            AccountError::Repository(inner) => Self::from(inner),
            AccountError::Hashing(inner) => Self::Internal(Box::new(inner)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind's status, so a change of mapping is a visible change of this test.
    #[test]
    fn every_error_kind_has_its_status_and_retry_hints() {
        let cases: Vec<(ApiError, u16, Option<&str>)> = vec![
            (ApiError::MalformedJson, 400, None),
            (ApiError::PayloadTooLarge, 413, None),
            (ApiError::UnsupportedMediaType, 415, None),
            (ApiError::invalid("title", "is invalid"), 422, None),
            (ApiError::BadRequest("no".into()), 400, None),
            (ApiError::Unauthorized("no".into()), 401, None),
            (ApiError::Forbidden("no".into()), 403, None),
            (ApiError::NotFound("Conversation not found"), 404, None),
            (ApiError::MethodNotAllowed, 405, None),
            (ApiError::Conflict("taken".into()), 409, None),
            (ApiError::TooManyActiveTurns, 429, Some("5")),
            (
                ApiError::RateLimited {
                    retry_after: Duration::from_millis(1_500),
                    limit: 10,
                },
                429,
                Some("2"),
            ),
            (ApiError::Unavailable("down".into()), 503, Some("2")),
            (ApiError::Internal("bug".into()), 500, None),
            (ApiError::from(RepositoryError::UserGone), 401, None),
            (
                ApiError::from(RepositoryError::Unavailable("down".into())),
                503,
                Some("2"),
            ),
        ];
        for (error, status, retry_after) in cases {
            let response = error.error_response();
            assert_eq!(response.status().as_u16(), status, "{error:?}");
            let header = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok());
            assert_eq!(header, retry_after, "{error:?}");
        }
    }
}
