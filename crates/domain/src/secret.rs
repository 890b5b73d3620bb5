//! Secrets in configuration (the JWT secret, the metrics token): held in
//! [`secrecy::SecretString`], so they are zeroed when dropped and never printed. `Debug`
//! shows a mask, and so does `Serialize` (`***` for a set secret, an empty string for an
//! unset one), so printing or logging any settings struct masks them by their type.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Holds `value` as a secret.
    #[must_use]
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The value, for the one place that needs it (signing, comparing).
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Whether no value is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// How it is shown: `***` when set, empty when not.
    fn mask(&self) -> &'static str {
        if self.is_empty() { "" } else { "***" }
    }
}

impl Default for Secret {
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({:?})", self.mask())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.mask())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// A connection URL (`postgres://`, `redis://` ...) that may carry a password: `Debug` and
/// `Serialize` show it through [`crate::urls::masked`], the one URL masker, so a settings
/// struct printed or logged never shows the password.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretUrl(Secret);

impl SecretUrl {
    /// Holds `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self(Secret::new(url))
    }

    /// The URL, for the one place that connects with it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// The URL with its password masked, for logs and messages.
    #[must_use]
    pub fn masked(&self) -> String {
        crate::urls::masked(self.expose())
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretUrl({:?})", self.masked())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl From<&str> for SecretUrl {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for SecretUrl {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::{Secret, SecretUrl};

    #[test]
    fn debug_and_serialize_show_only_a_mask() {
        let secret = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), r#"Secret("***")"#);
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
        assert_eq!(secret.expose(), "hunter2-hunter2");
        assert_eq!(format!("{:?}", Secret::default()), r#"Secret("")"#);
    }

    #[test]
    fn urls_show_without_their_password() {
        let url = SecretUrl::new("postgres://lia:p@ss@db/lia");
        assert_eq!(
            format!("{url:?}"),
            r#"SecretUrl("postgres://lia:***@db/lia")"#
        );
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            r#""postgres://lia:***@db/lia""#
        );
        assert_eq!(url.expose(), "postgres://lia:p@ss@db/lia");
    }
}
