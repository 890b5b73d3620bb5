//! Why a strategy failed. These never reach the chat stream: the service turns them into a
//! neutral fallback result whose details carry [`StrategyError::kind`].

/// A failed sentiment strategy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    /// The call took longer than its limit.
    #[error("timed out")]
    Timeout,
    /// The service could not be reached or answered with an error.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The answer could not be read as a sentiment.
    #[error("unreadable answer: {0}")]
    Parse(String),
    /// The LLM failed with this error kind.
    #[error("llm error: {0}")]
    Llm(&'static str),
    /// The method needs something that is not configured.
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
}

impl StrategyError {
    /// A stable snake_case name, recorded in the fallback result's details.
    #[must_use]
    pub fn kind(&self) -> String {
        match self {
            Self::Timeout => "timeout".into(),
            Self::Unavailable(_) => "unavailable".into(),
            Self::Parse(_) => "parse".into(),
            Self::Llm(kind) => format!("llm_{kind}"),
            Self::NotConfigured(_) => "not_configured".into(),
        }
    }
}
