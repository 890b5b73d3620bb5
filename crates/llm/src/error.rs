//! One error enum whose kinds survive to the HTTP edge, so a caller can answer "rate limited,
//! try in 30 s" or "unknown model" instead of a generic failure.

use std::time::Duration;

/// Which timeout fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// Opening the connection.
    Connect,
    /// Waiting for the first token.
    FirstToken,
    /// Waiting between two chunks.
    Idle,
    /// The whole generation, retries included.
    Total,
}

/// What can go wrong talking to a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The provider asked us to slow down; `retry_after` is its hint, when it gave one.
    #[error("rate limited by the provider")]
    RateLimited {
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The request was refused as malformed (400, 422).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The key was missing, wrong or lacks permission (401, 403).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The provider does not know this model.
    #[error("model not found: {0}")]
    ModelNotFound(String),
    /// A timeout fired.
    #[error("timed out ({0:?})")]
    Timeout(TimeoutKind),
    /// The provider or the network failed in a way that may pass (5xx, overload, reset).
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The provider sent data we could not understand.
    #[error("malformed provider data: {0}")]
    Protocol(String),
    /// The caller stopped the generation.
    #[error("cancelled")]
    Cancelled,
    /// No provider of that name is configured.
    #[error("provider not configured: {0}")]
    UnknownProvider(String),
}

impl LlmError {
    /// Whether retrying the same request may succeed: rate limits, timeouts, unavailability.
    /// Invalid requests, auth, unknown models, protocol errors and cancellation are final.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Timeout(_) | Self::Unavailable(_)
        )
    }

    /// A stable snake_case name for logs, metrics and API error bodies.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::ModelNotFound(_) => "model_not_found",
            Self::Timeout(_) => "timeout",
            Self::Unavailable(_) => "unavailable",
            Self::Protocol(_) => "protocol",
            Self::Cancelled => "cancelled",
            Self::UnknownProvider(_) => "unknown_provider",
        }
    }

    /// Classifies an HTTP error status, with the provider's own error code or status string
    /// (`error.type`/`error.code` for OpenAI, `error.status` for Gemini) when there is one.
    #[must_use]
    pub fn from_status(
        status: u16,
        provider_code: Option<&str>,
        message: &str,
        retry_after: Option<Duration>,
    ) -> Self {
        let code = provider_code.unwrap_or_default();
        let message = message.to_owned();
        match (status, code) {
            (_, "model_not_found") => Self::ModelNotFound(message),
            (404, _) if message.to_ascii_lowercase().contains("model") => {
                Self::ModelNotFound(message)
            }
            (_, "RESOURCE_EXHAUSTED" | "rate_limit_exceeded") | (429, _) => {
                Self::RateLimited { retry_after }
            }
            (
                _,
                "UNAVAILABLE" | "overloaded_error" | "server_error" | "INTERNAL"
                | "DEADLINE_EXCEEDED",
            ) => Self::Unavailable(message),
            (408, _) => Self::Timeout(TimeoutKind::FirstToken),
            (500 | 502 | 503 | 504 | 529, _) => Self::Unavailable(message),
            (401 | 403, _) | (_, "UNAUTHENTICATED" | "PERMISSION_DENIED" | "invalid_api_key") => {
                Self::Unauthorized(message)
            }
            (404, _) | (_, "NOT_FOUND") => Self::ModelNotFound(message),
            (400 | 422, _) | (_, "INVALID_ARGUMENT" | "invalid_request_error") => {
                Self::InvalidRequest(message)
            }
            (status, _) if status >= 500 => Self::Unavailable(message),
            _ => Self::InvalidRequest(message),
        }
    }
}

/// Reads a `Retry-After` header value given in seconds (the HTTP-date form is ignored).
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_provider_codes_map_to_kinds() {
        let kind = |status, code: Option<&str>, msg: &str| {
            LlmError::from_status(status, code, msg, None).kind()
        };
        assert_eq!(kind(429, None, "slow down"), "rate_limited");
        assert_eq!(
            kind(400, Some("RESOURCE_EXHAUSTED"), "quota"),
            "rate_limited"
        );
        assert_eq!(kind(503, Some("UNAVAILABLE"), "overloaded"), "unavailable");
        assert_eq!(kind(500, None, "boom"), "unavailable");
        assert_eq!(kind(502, None, "bad gateway"), "unavailable");
        assert_eq!(kind(408, None, "timeout"), "timeout");
        assert_eq!(kind(401, None, "bad key"), "unauthorized");
        assert_eq!(kind(403, Some("PERMISSION_DENIED"), "no"), "unauthorized");
        assert_eq!(
            kind(404, Some("model_not_found"), "The model `x` does not exist"),
            "model_not_found"
        );
        assert_eq!(
            kind(404, Some("NOT_FOUND"), "models/x is not found"),
            "model_not_found"
        );
        assert_eq!(
            kind(400, Some("INVALID_ARGUMENT"), "bad"),
            "invalid_request"
        );
        assert_eq!(kind(422, None, "bad"), "invalid_request");
        assert!(LlmError::from_status(503, None, "", None).is_transient());
        assert!(!LlmError::from_status(400, None, "", None).is_transient());
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
