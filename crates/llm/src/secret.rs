//! Provider API keys: held in [`secrecy::SecretString`], so they are zeroed when dropped and
//! never printed. `Debug` shows a mask, and so does `Serialize` (`***` when set, an empty
//! string when not), so printing a configuration masks them by their type. (This crate
//! stands alone, so it carries its own small wrapper rather than the domain's `Secret`.)

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An API key.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    /// Holds `value` as a key.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The key, for the request header that carries it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether no key is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    fn mask(&self) -> &'static str {
        if self.is_empty() { "" } else { "***" }
    }
}

impl Default for ApiKey {
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for ApiKey {}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({:?})", self.mask())
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.mask())
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl From<&str> for ApiKey {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}
