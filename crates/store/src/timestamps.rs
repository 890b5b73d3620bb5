//! Timestamps as stored. PostgreSQL keeps microseconds in `timestamptz`; SQLite keeps the RFC
//! 3339 text the driver writes, which drops trailing zero digits, so plain text ordering
//! would put `10:00:00Z` after `10:00:00.5Z`. Every timestamp we write therefore carries one
//! extra nanosecond: the text always has nine fractional digits, and so sorts in time order,
//! while PostgreSQL rounds the nanosecond away. Reads drop it again.

use lia_domain::clock::truncate_to_micros;
use time::{Duration, OffsetDateTime};

/// The value to bind for `instant` (which callers take from [`lia_domain::clock::now_utc`]).
pub(crate) fn to_db(instant: OffsetDateTime) -> OffsetDateTime {
    truncate_to_micros(instant) + Duration::nanoseconds(1)
}

/// The domain value of a stored timestamp.
pub(crate) fn from_db(stored: OffsetDateTime) -> OffsetDateTime {
    truncate_to_micros(stored.to_offset(time::UtcOffset::UTC))
}

/// The stored timestamp for a new message: `now` (already as stored), but strictly after
/// `latest` (the conversation's newest message, as stored), so message order never depends
/// on clocks agreeing across servers.
pub(crate) fn after_at(latest: Option<OffsetDateTime>, now: OffsetDateTime) -> OffsetDateTime {
    match latest.map(from_db) {
        Some(latest) if latest >= from_db(now) => to_db(latest + Duration::microseconds(1)),
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn stored_text_sorts_in_time_order() {
        let instants = [
            datetime!(2025-01-01 10:00:00 UTC),
            datetime!(2025-01-01 10:00:00.000001 UTC),
            datetime!(2025-01-01 10:00:00.1 UTC),
            datetime!(2025-01-01 10:00:00.5 UTC),
            datetime!(2025-01-01 10:00:01 UTC),
        ];
        let texts: Vec<String> = instants
            .iter()
            .map(|t| to_db(*t).format(&Rfc3339).unwrap())
            .collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert!(texts.iter().all(|t| t.len() == texts[0].len()));
        for instant in instants {
            assert_eq!(from_db(to_db(instant)), instant);
        }
    }

    #[test]
    fn new_messages_come_strictly_after_the_latest() {
        let now = to_db(lia_domain::clock::now_utc());
        let future = lia_domain::clock::now_utc() + Duration::seconds(5);
        assert!(from_db(after_at(Some(to_db(future)), now)) > future);
        let past = datetime!(2000-01-01 0:00 UTC);
        assert_eq!(after_at(Some(to_db(past)), now), now);
        assert_eq!(after_at(None, now), now);
    }
}
