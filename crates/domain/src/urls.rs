//! The one URL masker: connection URLs (`postgres://`, `redis://` ...) go into logs, error
//! messages and `--print-config` only through it, with any password replaced by `***`.

/// `url` with the password of its `user:password@` part replaced by `***`. The credentials
/// end at the *last* `@` of the authority, so a password containing `@` (written raw, as
/// people do) is masked whole.
#[must_use]
pub fn masked(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // A query or fragment may contain `@` too; the credentials cannot.
    let authority_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let (credentials, host) = (&rest[..at], &rest[at + 1..]);
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn passwords_are_masked_whole() {
        let cases = [
            (
                "postgres://lia:secret@db:5432/lia",
                "postgres://lia:***@db:5432/lia",
            ),
            (
                "postgres://lia:p@ss@word@db/lia",
                "postgres://lia:***@db/lia",
            ),
            (
                "rediss://default:s3cr3t@cache:6380/0",
                "rediss://default:***@cache:6380/0",
            ),
            ("redis://:only-password@cache", "redis://:***@cache"),
            ("postgres://lia@db/lia", "postgres://lia@db/lia"),
            ("sqlite://lia.db?mode=rwc", "sqlite://lia.db?mode=rwc"),
            ("postgres://db/lia?user=a@b", "postgres://db/lia?user=a@b"),
            ("not a url", "not a url"),
        ];
        for (url, expected) in cases {
            assert_eq!(masked(url), expected, "{url}");
        }
        assert!(!masked("postgres://u:p@ss@h/d").contains("ss"));
    }
}
