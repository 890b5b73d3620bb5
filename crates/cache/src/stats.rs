//! Hit, miss and fault counters by cache kind, shared by both backends, read by the server's
//! metrics endpoint.

use std::sync::atomic::{AtomicU64, Ordering};

/// What was looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheKind {
    /// History pages.
    History,
    /// Conversation first pages.
    Detail,
}

impl CacheKind {
    /// Every kind.
    pub const ALL: [Self; 2] = [Self::History, Self::Detail];

    /// The metric label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::History => "history",
            Self::Detail => "detail",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counters of one cache.
#[derive(Debug, Default)]
pub struct CacheStats {
    hits: [AtomicU64; 2],
    misses: [AtomicU64; 2],
    faults: AtomicU64,
}

impl CacheStats {
    pub(crate) fn hit(&self, kind: CacheKind) {
        self.hits[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self, kind: CacheKind) {
        self.misses[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }

    /// Hits of `kind` so far.
    #[must_use]
    pub fn hits(&self, kind: CacheKind) -> u64 {
        self.hits[kind.index()].load(Ordering::Relaxed)
    }

    /// Misses of `kind` so far.
    #[must_use]
    pub fn misses(&self, kind: CacheKind) -> u64 {
        self.misses[kind.index()].load(Ordering::Relaxed)
    }

    /// Operations that failed (timeouts, connection errors) and were treated as misses or no-ops.
    #[must_use]
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::Relaxed)
    }
}
