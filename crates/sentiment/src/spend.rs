//! Tokens that LLM sentiment calls consumed, collected for the chat turn they belong to so
//! the turn can charge them with its reply (usage ledger, quota, metrics).

use std::sync::Mutex;

/// One LLM sentiment call's consumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spent {
    /// The provider that answered (after routing).
    pub provider: String,
    /// The model asked of it.
    pub model: String,
    /// Its tokens: as the provider reported them, else estimated.
    pub usage: lia_llm::Usage,
    /// Whether `usage` is an estimate (the provider reported none).
    pub estimated: bool,
}

/// What the sentiment calls of one turn spent.
#[derive(Debug, Default)]
pub struct Spend {
    calls: Mutex<Vec<Spent>>,
}

impl Spend {
    pub(crate) fn add(&self, spent: Spent) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(spent);
        }
    }

    /// Every call so far, in order.
    #[must_use]
    pub fn calls(&self) -> Vec<Spent> {
        self.calls
            .lock()
            .map(|calls| calls.clone())
            .unwrap_or_default()
    }
}
