//! Email addresses, normalised the way the reference (Pydantic `EmailStr`) did, so that
//! accounts created by the Python service are found by the same login input.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::char_count;
use crate::error::ValidationError;

const FIELD: &str = "email";
const MAX_LOCAL: usize = 64;
const MAX_TOTAL: usize = 254;
/// Characters allowed unquoted in a local part (RFC 5322 `atext`) besides ASCII alphanumerics.
const LOCAL_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";

/// A syntactically valid, normalised email address.
///
/// Normalisation: surrounding whitespace is stripped, `Display Name <a@b.c>` is reduced to
/// `a@b.c`, and the domain is lowercased. The local part keeps its case, as in the reference,
/// so `A@ex.com` and `a@ex.com` remain two accounts (existing data depends on it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Validates and normalises `input`.
    ///
    /// # Errors
    /// A [`ValidationError`] on the `email` field naming the first rule broken.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let trimmed = input.trim();
        let address = match (trimmed.rfind('<'), trimmed.ends_with('>')) {
            (Some(open), true) => trimmed[open + 1..trimmed.len() - 1].trim(),
            _ => trimmed,
        };
        let invalid = |reason: &str| ValidationError::new(FIELD, reason);
        let (local, domain) = address
            .rsplit_once('@')
            .ok_or_else(|| invalid("must be an email address containing '@'"))?;
        validate_local(local)?;
        let domain = normalise_domain(domain)?;
        let email = format!("{local}@{domain}");
        if char_count(&email) > MAX_TOTAL {
            return Err(invalid("must be at most 254 characters"));
        }
        Ok(Self(email))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn validate_local(local: &str) -> Result<(), ValidationError> {
    let invalid = |reason: &str| Err(ValidationError::new(FIELD, reason));
    if local.is_empty() {
        return invalid("must have a part before '@'");
    }
    if char_count(local) > MAX_LOCAL {
        return invalid("the part before '@' must be at most 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return invalid("the part before '@' has a misplaced '.'");
    }
    let allowed = |c: char| c.is_alphanumeric() || LOCAL_SPECIALS.contains(c);
    if !local.chars().all(allowed) {
        return invalid("the part before '@' contains a character that is not allowed");
    }
    Ok(())
}

fn normalise_domain(domain: &str) -> Result<String, ValidationError> {
    let invalid = |reason: &str| Err(ValidationError::new(FIELD, reason));
    let domain = domain.to_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return invalid("the domain must contain a '.'");
    }
    for label in &labels {
        let well_formed = !label.is_empty()
            && char_count(label) <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !well_formed {
            return invalid("the domain is not valid");
        }
    }
    Ok(domain)
}

impl TryFrom<String> for Email {
    type Error = ValidationError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalises_like_the_reference() {
        let cases = [
            ("  bob@example.com ", "bob@example.com"),
            ("Bob@EXAMPLE.Com", "Bob@example.com"),
            ("Bob Smith <bob@Example.org>", "bob@example.org"),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Email::parse(input).unwrap().as_str(), expected, "{input}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for input in [
            "",
            "plain",
            "@example.com",
            "bob@",
            "bob@localhost",
            "bob@exa mple.com",
            ".bob@example.com",
            "bo..b@example.com",
            "bob@-example.com",
            "b ob@example.com",
        ] {
            let error = Email::parse(input).unwrap_err();
            assert_eq!(error.field, "email", "{input}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(input in ".{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                let again = Email::parse(email.as_str()).unwrap();
                prop_assert_eq!(again, email);
            }
        }

        #[test]
        fn generated_valid_addresses_are_accepted(
            local in "[a-zA-Z0-9][a-zA-Z0-9_+-]{0,20}",
            domain in "[a-z][a-z0-9]{0,10}\\.[a-z]{2,6}",
        ) {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(email.as_str(), format!("{local}@{domain}"));
        }
    }
}
