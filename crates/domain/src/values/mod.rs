//! Value types that validate on construction: once built, a value is known to be valid, so
//! code behind the HTTP edge never checks it again. Lengths count Unicode scalar values, as
//! the reference counted code points, never bytes.

mod email;
mod password;
mod text;
mod username;

pub use email::Email;
pub use password::Password;
pub use text::{MessageText, Title};
pub use username::Username;

/// Number of Unicode scalar values in `s`: the unit every length rule uses.
pub(crate) fn char_count(s: &str) -> usize {
    s.chars().count()
}
