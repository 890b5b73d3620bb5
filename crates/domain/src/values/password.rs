//! Passwords chosen at registration: 8 to 100 characters with an uppercase letter, a
//! lowercase letter and a digit.

use std::fmt;

use crate::error::ValidationError;

/// A new password that meets the strength rules. It is never serialised, and its `Debug`
/// output is redacted so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Fewest characters allowed.
    pub const MIN_CHARS: usize = 8;
    /// Most characters allowed: also bounds the work a hash of it costs.
    pub const MAX_CHARS: usize = 100;

    /// Validates a new password.
    ///
    /// # Errors
    /// A [`ValidationError`] on the `password` field whose reason names the missing class.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let invalid = |reason: &str| Err(ValidationError::new("password", reason));
        let n_chars = input.chars().count();
        if n_chars < Self::MIN_CHARS {
            return invalid("must be at least 8 characters");
        }
        if n_chars > Self::MAX_CHARS {
            return invalid("must be at most 100 characters");
        }
        if !input.chars().any(|c| c.is_ascii_uppercase()) {
            return invalid("must contain at least one uppercase letter");
        }
        if !input.chars().any(|c| c.is_ascii_lowercase()) {
            return invalid("must contain at least one lowercase letter");
        }
        if !input.chars().any(|c| c.is_ascii_digit()) {
            return invalid("must contain at least one digit");
        }
        Ok(Self(input.to_owned()))
    }

    /// The plaintext, for hashing only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_has_its_own_reason() {
        assert!(Password::parse("Secret123").is_ok());
        let reason = |input: &str| Password::parse(input).unwrap_err().reason;
        assert_eq!(reason("Sh0rt"), "must be at least 8 characters");
        assert_eq!(
            reason("lowercase123"),
            "must contain at least one uppercase letter"
        );
        assert_eq!(
            reason("UPPERCASE123"),
            "must contain at least one lowercase letter"
        );
        assert_eq!(reason("NoDigitsHere"), "must contain at least one digit");
        assert_eq!(
            reason(&format!("Aa1{}", "x".repeat(98))),
            "must be at most 100 characters"
        );
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = Password::parse("Secret123").unwrap();
        assert!(!format!("{password:?}").contains("Secret123"));
    }
}
