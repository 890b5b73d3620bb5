//! Why a chat turn could not start. Once started, failures are events, never errors.

use lia_domain::RepositoryError;
use lia_domain::ports::StreamBufferError;

/// A turn that could not start, or a stream that cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The user already has the maximum of turns generating.
    #[error("Too many active chat turns. Wait for one to finish.")]
    TooManyActiveTurns,
    /// The user's daily token budget is spent.
    #[error("Daily token quota exhausted.")]
    QuotaExceeded(crate::quota::QuotaStatus),
    /// The server is shutting down and takes no new turns.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The requested provider is not configured.
    #[error("provider {0:?} is not available")]
    UnknownProvider(String),
    /// No such conversation or stream for this user.
    #[error("not found")]
    NotFound,
    /// Storage failed.
    #[error("storage failure")]
    Repository(#[source] RepositoryError),
    /// The stream buffer failed.
    #[error("stream buffer failure")]
    Buffer(#[source] StreamBufferError),
}

impl From<RepositoryError> for ChatError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::NotFound => Self::NotFound,
            other => Self::Repository(other),
        }
    }
}

impl From<StreamBufferError> for ChatError {
    fn from(error: StreamBufferError) -> Self {
        match error {
            StreamBufferError::NotFound => Self::NotFound,
            other => Self::Buffer(other),
        }
    }
}
