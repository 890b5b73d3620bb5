//! The application clock. Timestamps are UTC with microsecond precision, the precision
//! PostgreSQL keeps, so a value survives a round trip through any store unchanged. Where a
//! decision depends on the day (quota resets), time is a [`Clock`] dependency, so tests move
//! it instead of waiting for midnight.

use std::sync::Mutex;

use time::OffsetDateTime;

/// The current UTC time, truncated to whole microseconds.
#[must_use]
pub fn now_utc() -> OffsetDateTime {
    truncate_to_micros(OffsetDateTime::now_utc())
}

/// `instant` with its sub-microsecond part dropped.
#[must_use]
pub fn truncate_to_micros(instant: OffsetDateTime) -> OffsetDateTime {
    let nanos = instant.nanosecond();
    instant
        .replace_nanosecond(nanos - nanos % 1_000)
        .unwrap_or(instant)
}

/// The current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        now_utc()
    }
}

/// A clock that moves only when told to (tests and simulations).
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock at `now`.
    #[must_use]
    pub fn at(now: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.now
            .lock()
            .map_or_else(|_| OffsetDateTime::now_utc(), |now| *now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now_utc().nanosecond() % 1_000, 0);
    }

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let clock = ManualClock::at(start);
        assert_eq!(clock.now(), start);
        clock.advance(time::Duration::days(1));
        assert_eq!(clock.now(), start + time::Duration::days(1));
        assert!(SystemClock.now() > start);
    }
}
