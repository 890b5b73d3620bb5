//! Free text with length bounds: conversation titles and chat messages.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::char_count;
use crate::error::ValidationError;

/// A conversation title: 1 to 255 characters, stored exactly as given (the reference accepts
/// whitespace-only titles, and so do we).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    /// Most characters allowed.
    pub const MAX_CHARS: usize = 255;

    /// Validates `input`.
    ///
    /// # Errors
    /// A [`ValidationError`] on the `title` field.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        bounded("title", input, Self::MAX_CHARS).map(Self)
    }

    /// The title derived from a conversation's first message, as the reference derives it:
    /// the first 50 characters, trimmed; when the message is longer than 50 characters, cut at
    /// the last space of that prefix (if any) and append `...`. An empty message gives `None`.
    #[must_use]
    pub fn from_first_message(message: &str) -> Option<Self> {
        const PREFIX_CHARS: usize = 50;
        let prefix: String = message.chars().take(PREFIX_CHARS).collect();
        let trimmed = prefix.trim();
        let title = if char_count(message) > PREFIX_CHARS {
            let cut = trimmed
                .rfind(' ')
                .map_or(trimmed, |space| &trimmed[..space]);
            format!("{cut}...")
        } else {
            trimmed.to_owned()
        };
        (!title.is_empty()).then_some(Self(title))
    }

    /// The title text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of one chat message: 1 to 10,000 characters, not trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageText(String);

impl MessageText {
    /// Most characters allowed.
    pub const MAX_CHARS: usize = 10_000;

    /// Validates `input`.
    ///
    /// # Errors
    /// A [`ValidationError`] on the `message` field.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        bounded("message", input, Self::MAX_CHARS).map(Self)
    }

    /// The message text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn bounded(field: &'static str, input: &str, max_chars: usize) -> Result<String, ValidationError> {
    if input.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if char_count(input) > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    storable(field, input)?;
    Ok(input.to_owned())
}

/// Text every backend stores alike: PostgreSQL refuses the NUL character in text (SQLite
/// would keep it), so it is refused here, for every backend, before anything is stored.
fn storable(field: &'static str, input: &str) -> Result<(), ValidationError> {
    if input.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain the NUL character",
        ));
    }
    Ok(())
}

macro_rules! string_value_impls {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = ValidationError;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_value_impls!(Title);
string_value_impls!(MessageText);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn nul_is_refused_in_every_stored_text_naming_the_field() {
        let nul = |result: Result<(), ValidationError>| result.unwrap_err().to_string();
        assert_eq!(
            nul(MessageText::parse("a\0b").map(drop)),
            "message: must not contain the NUL character"
        );
        assert_eq!(
            nul(Title::parse("a\0b").map(drop)),
            "title: must not contain the NUL character"
        );
        let username = crate::values::Username::parse("ad\0a").unwrap_err();
        assert_eq!(username.field, "username");
        let email = crate::values::Email::parse("ad\0a@example.com").unwrap_err();
        assert_eq!(email.field, "email");
        let domain = crate::values::Email::parse("ada@exa\0mple.com").unwrap_err();
        assert_eq!(domain.field, "email");
    }

    #[test]
    fn title_rule_matches_the_reference_examples() {
        let title = |m: &str| Title::from_first_message(m).map(|t| t.as_str().to_owned());
        assert_eq!(title("Hello").as_deref(), Some("Hello"));
        assert_eq!(
            title(&"x".repeat(60)),
            Some(format!("{}...", "x".repeat(50)))
        );
        assert_eq!(
            title("This is a fairly long first message that goes beyond fifty characters")
                .as_deref(),
            Some("This is a fairly long first message that goes...")
        );
        assert_eq!(title("   "), None);
        assert_eq!(title(""), None);
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(MessageText::parse(&"é".repeat(10_000)).is_ok());
        assert!(MessageText::parse(&"é".repeat(10_001)).is_err());
        assert!(Title::parse(&"日".repeat(255)).is_ok());
        assert!(Title::parse(&"日".repeat(256)).is_err());
        assert_eq!(MessageText::parse("").unwrap_err().field, "message");
        assert!(Title::parse("   ").is_ok());
    }

    proptest! {
        #[test]
        fn derived_titles_are_short_and_never_panic(message in "\\PC{0,120}") {
            if let Some(title) = Title::from_first_message(&message) {
                prop_assert!(title.as_str().chars().count() <= 53);
                prop_assert!(Title::parse(title.as_str()).is_ok());
            }
        }
    }
}
