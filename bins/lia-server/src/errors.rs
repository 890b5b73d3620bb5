//! Why the server could not start, each with the one line it prints and the exit status it
//! exits with (documented in the operations guide):
//!
//! | status | cause |
//! | --- | --- |
//! | 1 | anything else (a bug, a provider client that cannot be built) |
//! | 2 | invalid configuration (the key is named) |
//! | 3 | the listener cannot be bound |
//! | 4 | the database cannot be opened or migrated |
//! | 5 | Redis does not answer and `cache.redis_required` is set |
//! | 130 | a second SIGINT/SIGTERM during shutdown |

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] crate::settings::SettingsError),
    /// The listener cannot be bound.
    #[error("cannot bind {address}: {reason}")]
    Bind {
        /// What was asked for.
        address: String,
        /// The system's reason, e.g. "address in use".
        reason: std::io::ErrorKind,
    },
    /// The database cannot be opened, migrated or read.
    #[error("database: {0}")]
    Database(String),
    /// Redis is required and does not answer.
    #[error("redis: {0}")]
    Redis(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl StartupError {
    /// The process exit status for this failure.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Other(_) => 1,
            Self::Config(_) => 2,
            Self::Bind { .. } => 3,
            Self::Database(_) => 4,
            Self::Redis(_) => 5,
        }
    }

    /// A bind failure for `address`.
    pub(crate) fn bind(address: impl Into<String>, error: &std::io::Error) -> Self {
        Self::Bind {
            address: address.into(),
            reason: error.kind(),
        }
    }

    /// Any other failure, described by its error chain on one line.
    pub fn other(error: impl std::error::Error) -> Self {
        Self::Other(chain(&error))
    }

    /// A database failure, described by its error chain on one line.
    pub(crate) fn database(error: impl std::error::Error) -> Self {
        Self::Database(chain(&error))
    }
}

/// `error` and its sources, joined with `: ` (a source already in the text is skipped).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
