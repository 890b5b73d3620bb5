//! Usernames: 3 to 50 characters of ASCII letters, digits, `_` and `-`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// A valid username. Uniqueness is exact and case-sensitive, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Fewest characters allowed.
    pub const MIN_CHARS: usize = 3;
    /// Most characters allowed.
    pub const MAX_CHARS: usize = 50;

    /// Validates `input` (no trimming: what is given is what is stored).
    ///
    /// # Errors
    /// A [`ValidationError`] on the `username` field.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let n_chars = input.chars().count();
        if n_chars < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "username",
                "must be at least 3 characters",
            ));
        }
        if n_chars > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "username",
                "must be at most 50 characters",
            ));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if !input.chars().all(allowed) {
            return Err(ValidationError::new(
                "username",
                "may contain only letters, digits, '_' and '-'",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The username.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn enforces_length_and_alphabet() {
        assert!(Username::parse("bob").is_ok());
        assert!(Username::parse("a_b-C9").is_ok());
        assert!(Username::parse(&"x".repeat(50)).is_ok());
        for bad in ["", "ab", "with space", "émile", "semi;colon"] {
            assert_eq!(Username::parse(bad).unwrap_err().field, "username", "{bad}");
        }
        assert!(Username::parse(&"x".repeat(51)).is_err());
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_documented_pattern(input in "\\PC{0,60}") {
            let expected = (3..=50).contains(&input.chars().count())
                && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            prop_assert_eq!(Username::parse(&input).is_ok(), expected);
        }
    }
}
