//! The shared HTTP client set-up and the mapping of transport failures onto error kinds.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{LlmError, TimeoutKind};

/// An HTTP client with the connect timeout applied. TLS is rustls with the `ring` provider and
/// the platform's certificate verifier (what reqwest would choose), configured for this client
/// alone: building one changes nothing process-wide, so embedding this crate leaves the
/// host's TLS set-up as it was.
///
/// # Errors
/// [`LlmError::InvalidRequest`] if the client cannot be built (bad TLS set-up).
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, LlmError> {
    let invalid = |e: &dyn std::fmt::Display| {
        LlmError::InvalidRequest(format!("cannot build HTTP client: {e}"))
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(|e| invalid(&e))?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // reqwest sets ALPN only on configurations it builds itself.
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| invalid(&e))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_a_client_installs_no_process_wide_tls_provider() {
        client(Duration::from_secs(1)).unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    }
}
