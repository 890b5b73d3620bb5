//! Per-user daily token budgets. The budget is the user's own (`user_quotas`) or the
//! configured default (`quotas.daily_tokens`, 0 = none); what was spent is the usage ledger's
//! sum for the current UTC day, so it is exact, shared by every instance and survives
//! restarts. A turn is admitted while anything remains and charged when it ends, so turns
//! started together may overshoot by what they spend.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, Time};

/// The default budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaConfig {
    /// Prompt plus completion tokens per user and UTC day; 0 means no quota.
    pub daily_tokens: u64,
}

/// Where a user stands against their budget today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaStatus {
    /// The day's budget.
    pub limit: u64,
    /// What is left of it (0 when spent or overspent).
    pub remaining: u64,
    /// When the budget renews: the next UTC midnight.
    pub resets_at: OffsetDateTime,
}

impl QuotaStatus {
    /// The status of `limit` with `spent` at `now`.
    #[must_use]
    pub fn new(limit: u64, spent: u64, now: OffsetDateTime) -> Self {
        Self {
            limit,
            remaining: limit.saturating_sub(spent),
            resets_at: next_midnight(now),
        }
    }

    /// Whether no budget is left.
    #[must_use]
    pub fn exhausted(&self) -> bool {
        self.remaining == 0
    }
}

/// The UTC midnight after `now`.
#[must_use]
pub fn next_midnight(now: OffsetDateTime) -> OffsetDateTime {
    let today = now.to_offset(time::UtcOffset::UTC).date();
    (today + Duration::days(1))
        .with_time(Time::MIDNIGHT)
        .assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_budget_renews_at_the_next_utc_midnight() {
        let now = datetime!(2026-12-01 23:59:59 UTC);
        let status = QuotaStatus::new(1_000, 1_200, now);
        assert!(status.exhausted());
        assert_eq!(status.resets_at, datetime!(2026-12-02 00:00:00 UTC));
        let status = QuotaStatus::new(1_000, 400, datetime!(2026-12-02 00:00:00 UTC));
        assert_eq!(status.remaining, 600);
        assert_eq!(status.resets_at, datetime!(2026-12-03 00:00:00 UTC));
    }
}
