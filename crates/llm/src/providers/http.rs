//! The shared HTTP client set-up and the mapping of transport failures onto error kinds.

use std::time::Duration;

use crate::error::{LlmError, TimeoutKind};

/// An HTTP client with the connect timeout applied. TLS is rustls with the `ring` provider,
/// installed as the process default if none is set yet (one TLS stack for the whole binary).
///
/// # Errors
/// [`LlmError::InvalidRequest`] if the client cannot be built (bad TLS set-up).
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, LlmError> {
    // Ignore the error: it only says a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| LlmError::InvalidRequest(format!("cannot build HTTP client: {e}")))
}

/// Classifies a failure to send a request or read its body.
pub(crate) fn transport_error(error: &reqwest::Error) -> LlmError {
    if error.is_timeout() {
        LlmError::Timeout(if error.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::FirstToken
        })
    } else {
        LlmError::Unavailable(format!("transport: {}", error_chain(error)))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
