//! Model names as callers may send them. A name ends up in a provider's URL (Gemini's
//! `/v1beta/models/{model}:generateContent`) or request body, so it is checked before any
//! call: 1 to 128 characters of letters, digits and `- . _ : / @ +` (enough for
//! `gpt-4.1-mini`, `gemini-2.5-flash`, `llama3.1:8b`, `meta-llama/Llama-3.3-70B-Instruct`,
//! `openai/gpt-4o@2024-08-06`), not starting with `.`, `/` or `-`, with no `..`. Adapters
//! also percent-encode it as one path segment, so even a name that passed cannot reach
//! another endpoint.

/// Longest accepted name, in characters.
pub const MAX_LEN: usize = 128;

/// Why `name` is not a model name; `None` when it is one.
#[must_use]
pub fn problem(name: &str) -> Option<&'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._:/@+".contains(c);
    if name.is_empty() || name.chars().count() > MAX_LEN {
        return Some("must be 1 to 128 characters");
    }
    if !name.chars().all(allowed) {
        return Some("may contain only letters, digits and - . _ : / @ +");
    }
    if name.starts_with(['.', '/', '-']) || name.contains("..") {
        return Some("must not start with '.', '/' or '-', nor contain '..'");
    }
    None
}

/// `name` percent-encoded as one URL path segment: everything but letters, digits and
/// `- . _ ~` is escaped, `/` included.
#[must_use]
pub fn path_segment(name: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(name, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_names_pass_and_path_tricks_do_not() {
        for name in [
            "gpt-4o",
            "gemini-2.5-flash",
            "llama3.1:8b",
            "meta-llama/Llama-3.3-70B-Instruct",
            "openai/gpt-4o@2024-08-06",
            "lia-local",
        ] {
            assert_eq!(problem(name), None, "{name}");
        }
        for name in [
            "",
            "../../v1beta/files?x=",
            "..%2F..%2Fv1beta",
            "a/../b",
            "/v1beta/files",
            "gpt 4o",
            "gpt-4o?key=x",
            "gpt-4o#x",
            "gemini\u{0}",
            "ünï",
            &"x".repeat(129),
        ] {
            assert!(problem(name).is_some(), "{name:?}");
        }
    }

    #[test]
    fn a_path_segment_cannot_leave_its_segment() {
        assert_eq!(path_segment("gemini-2.5-flash"), "gemini-2.5-flash");
        assert_eq!(path_segment("a/b:c?d"), "a%2Fb%3Ac%3Fd");
        assert_eq!(path_segment("../x"), "..%2Fx");
    }
}
