//! [`Shared`]: a read result that every reader of one cache entry shares, with a slot for its
//! encoding, so a cached page is serialised once however many times it is served.
//!
//! A cache hit used to hand each reader a deep copy (every title and message cloned) that the
//! HTTP edge then serialised again. Both costs scaled with the page, on the most frequent
//! request. A cache that keeps a `Shared` hands out an `Arc` instead, and the edge keeps the
//! bytes it wrote in [`Shared::encoded_with`]; the entry, and its encoding with it, is
//! dropped when the data changes.
//!
//! A cache outside the process (Redis) keeps what the edge sends, not the value: a hit is
//! then [`Shared::from_encoding`], served without decoding or encoding anything.

use std::sync::{Arc, OnceLock};

/// A read result shared between readers, with its memoised encoding.
///
/// One process has one wire encoding per value type (the HTTP edge's), so the first
/// encoding stored is the one every later reader gets.
#[derive(Debug)]
pub struct Shared<T> {
    content: Content<T>,
}

/// What a [`Shared`] holds: a value (and, once made, its encoding), or only an encoding.
#[derive(Debug)]
enum Content<T> {
    Value {
        value: T,
        encoded: OnceLock<Arc<[u8]>>,
    },
    Encoded(Arc<[u8]>),
}

impl<T> Shared<T> {
    /// Wraps a freshly read value; nothing is encoded yet.
    #[must_use]
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Self {
            content: Content::Value {
                value,
                encoded: OnceLock::new(),
            },
        })
    }

    /// A value known only by its encoding: read back from a cache that keeps the bytes the
    /// edge sends, it is served as they are.
    #[must_use]
    pub fn from_encoding(encoded: Arc<[u8]>) -> Arc<Self> {
        Arc::new(Self {
            content: Content::Encoded(encoded),
        })
    }

    /// The value; `None` for one known only by its encoding.
    #[must_use]
    pub fn value(&self) -> Option<&T> {
        match &self.content {
            Content::Value { value, .. } => Some(value),
            Content::Encoded(_) => None,
        }
    }

    /// The stored encoding, if one was made (a cache that keeps entries outside the process
    /// stores these bytes).
    #[must_use]
    pub fn encoded(&self) -> Option<Arc<[u8]>> {
        match &self.content {
            Content::Value { encoded, .. } => encoded.get().map(Arc::clone),
            Content::Encoded(encoded) => Some(Arc::clone(encoded)),
        }
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
        let (value, encoded) = match &self.content {
            Content::Value { value, encoded } => (value, encoded),
            Content::Encoded(encoded) => return Ok(Arc::clone(encoded)),
        };
        if let Some(stored) = encoded.get() {
            return Ok(Arc::clone(stored));
        }
        let fresh: Arc<[u8]> = Arc::from(encode(value)?);
        Ok(Arc::clone(encoded.get_or_init(|| fresh)))
    }

    /// Whether an encoding is stored (for tests and counters).
    #[must_use]
    pub fn is_encoded(&self) -> bool {
        self.encoded().is_some()
    }
}

impl<T: PartialEq> PartialEq for Shared<T> {
    /// Two values are equal when they are equal whatever was encoded; two known only by their
    /// encodings when the bytes are; a value and an encoding never are.
    fn eq(&self, other: &Self) -> bool {
        match (&self.content, &other.content) {
            (Content::Value { value: a, .. }, Content::Value { value: b, .. }) => a == b,
            (Content::Encoded(a), Content::Encoded(b)) => a == b,
            _ => false,
        }
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
        assert_eq!(shared.value(), Some(&vec![1, 2, 3]));
        assert_eq!(shared.encoded().as_deref(), Some(&[11, 12, 13][..]));
    }

    #[test]
    fn a_value_known_by_its_encoding_is_served_as_those_bytes() {
        let bytes: Arc<[u8]> = Arc::from(&b"[1]"[..]);
        let known = Shared::<Vec<u8>>::from_encoding(Arc::clone(&bytes));
        let served = known.encoded_with(|_| Err("never called")).unwrap();
        assert!(Arc::ptr_eq(&served, &bytes));
        assert_eq!(known.value(), None);
        assert_eq!(*known, *Shared::<Vec<u8>>::from_encoding(bytes));
        assert_ne!(
            *known,
            *Shared::new(vec![1_u8]),
            "a value never equals an encoding"
        );
    }
}
