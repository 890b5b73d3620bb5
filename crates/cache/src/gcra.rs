//! The generic cell rate algorithm, shared by both limiters (the Redis one runs the same
//! arithmetic in a Lua script). Each key stores one number, its theoretical arrival time
//! (TAT). A request at `now` is admitted when `max(TAT, now) + interval - now <= window`,
//! which admits exactly `limit` requests in a burst and then one per `interval`. A rejected
//! request does not move the TAT, so a client that keeps retrying is not locked out longer.

use std::time::Duration;

use lia_domain::ports::RateLimitDecision;

/// One decision: the new TAT to store (`None` when rejected) and what to tell the caller.
/// Times are in microseconds on any monotonic clock.
#[must_use]
pub fn decide(
    stored_tat: Option<u64>,
    now: u64,
    limit: u32,
    window: Duration,
) -> (Option<u64>, RateLimitDecision) {
    let window_us = u64::try_from(window.as_micros()).unwrap_or(u64::MAX).max(1);
    let limit = limit.max(1);
    let interval = window_us / u64::from(limit);
    let tat = stored_tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let used = new_tat - now;
    if used > window_us {
        let retry_after = Duration::from_micros(used - window_us);
        return (
            None,
            RateLimitDecision {
                allowed: false,
                limit,
                remaining: 0,
                retry_after,
            },
        );
    }
    let remaining = u32::try_from((window_us - used) / interval.max(1)).unwrap_or(u32::MAX);
    (
        Some(new_tat),
        RateLimitDecision {
            allowed: true,
            limit,
            remaining,
            retry_after: Duration::ZERO,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_a_burst_of_exactly_the_limit_then_one_per_interval() {
        let window = Duration::from_secs(60);
        let mut tat = None;
        for expected_remaining in (0..10).rev() {
            let (next, decision) = decide(tat, 0, 10, window);
            assert!(decision.allowed);
            assert_eq!(decision.remaining, expected_remaining);
            tat = next;
        }
        let (next, rejected) = decide(tat, 0, 10, window);
        assert_eq!((next, rejected.allowed), (None, false));
        assert_eq!(rejected.retry_after, Duration::from_secs(6));
        // Rejections did not consume anything: after one interval, one more is admitted.
        assert!(decide(tat, 6_000_000, 10, window).1.allowed);
        assert!(!decide(tat, 5_999_999, 10, window).1.allowed);
    }
}
