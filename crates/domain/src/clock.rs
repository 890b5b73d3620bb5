//! The application clock. Timestamps are UTC with microsecond precision, the precision
//! PostgreSQL keeps, so a value survives a round trip through any store unchanged.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now_utc().nanosecond() % 1_000, 0);
    }
}
