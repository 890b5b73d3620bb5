//! [`Shared`]: a read result that every reader of one cache entry shares, with a slot for its
//! encoding, so a cached page is serialised once however many times it is served.
//!
//! A cache hit used to hand each reader a deep copy (every title and message cloned) that the
//! HTTP edge then serialised again. Both costs scaled with the page, on the most frequent
//! request. A cache that keeps a `Shared` hands out an `Arc` instead, and the edge keeps the
//! bytes it wrote in [`Shared::encoded_with`]; the entry, and its encoding with it, is
//! dropped when the data changes.

use std::sync::{Arc, OnceLock};

/// A read result shared between readers, with its memoised encoding.
///
/// One process has one wire encoding per value type (the HTTP edge's), so the first
/// encoding stored is the one every later reader gets.
#[derive(Debug)]
pub struct Shared<T> {
    value: T,
    encoded: OnceLock<Arc<[u8]>>,
}

impl<T> Shared<T> {
    /// Wraps a freshly read value; nothing is encoded yet.
    #[must_use]
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Self {
            value,
            encoded: OnceLock::new(),
        })
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The value's encoding: `encode` runs until one call succeeds, and later calls (by any
    /// reader of this entry) get the stored bytes. Two readers racing on a fresh entry may
    /// both encode; the first stored wins.
    ///
    /// # Errors
    /// `encode`'s error; nothing is stored then.
    pub fn encoded_with<E>(
        &self,
        encode: impl FnOnce(&T) -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        if let Some(stored) = self.encoded.get() {
            return Ok(Arc::clone(stored));
        }
        let fresh: Arc<[u8]> = Arc::from(encode(&self.value)?);
        Ok(Arc::clone(self.encoded.get_or_init(|| fresh)))
    }

    /// Whether an encoding is stored (for tests and counters).
    #[must_use]
    pub fn is_encoded(&self) -> bool {
        self.encoded.get().is_some()
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    /// Equal values are equal whatever was encoded.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn the_encoding_runs_once_and_every_reader_gets_its_bytes() {
        let shared = Shared::new(vec![1_u8, 2, 3]);
        let calls = Cell::new(0);
        let encode = |value: &Vec<u8>| {
            calls.set(calls.get() + 1);
            Ok::<_, ()>(value.iter().map(|b| b + 10).collect())
        };
        assert!(!shared.is_encoded());
        assert_eq!(shared.encoded_with(|_| Err("refused")), Err("refused"));
        assert!(!shared.is_encoded(), "a failed encoding is not stored");
        let first = shared.encoded_with(encode).unwrap();
        let reader = Arc::clone(&shared);
        let second = reader.encoded_with(encode).unwrap();
        assert_eq!(&*first, &[11, 12, 13]);
        assert!(Arc::ptr_eq(&first, &second), "the same bytes, not a copy");
        assert_eq!(calls.get(), 1);
        assert_eq!(shared.value(), &vec![1, 2, 3]);
    }
}
