//! Access tokens: JWTs signed with HMAC (HS256 by default; HS384 and HS512 configurable), with
//! the reference service's claims (`sub` = user id as a string, `iat`, `exp`) plus `type`, so
//! tokens issued by the Python service stay valid when the same secret is deployed.
//!
//! Only the configured algorithm is accepted; `type: "refresh"` tokens are refused as access
//! tokens. Each rejection has the reference's message (`API.md` 1.2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use lia_domain::UserId;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Sha256, Sha384, Sha512};
use time::OffsetDateTime;

use crate::error::AuthError;

/// The HMAC algorithms a deployment may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    /// HMAC-SHA256.
    #[default]
    HS256,
    /// HMAC-SHA384.
    HS384,
    /// HMAC-SHA512.
    HS512,
}

impl JwtAlgorithm {
    fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    fn sign(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn mac<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            // HMAC accepts keys of any length, so this cannot fail.
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(message);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Self::HS256 => mac::<Hmac<Sha256>>(key, message),
            Self::HS384 => mac::<Hmac<Sha384>>(key, message),
            Self::HS512 => mac::<Hmac<Sha512>>(key, message),
        }
    }
}

/// Why a token was refused; `Display` is the message the client sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, expired, malformed, or another algorithm.
    #[error("Invalid or expired token")]
    Invalid,
    /// A refresh token used as an access token.
    #[error("Cannot use refresh token as access token")]
    RefreshToken,
    /// No `sub` claim.
    #[error("Invalid token payload")]
    MissingSubject,
    /// `sub` is not an integer string.
    #[error("Invalid user identifier")]
    BadSubject,
}

/// A freshly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// Its lifetime in seconds (the cookie's `Max-Age`).
    pub expires_in: u64,
}

/// Issues and verifies tokens with one secret.
#[derive(Clone)]
pub struct TokenService {
    secret: Vec<u8>,
    algorithm: JwtAlgorithm,
    lifetime_secs: u64,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("algorithm", &self.algorithm)
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// Shortest secret accepted, in bytes.
    pub const MIN_SECRET_LEN: usize = 32;

    /// A service signing with `secret`, issuing tokens valid for `lifetime_days`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a secret shorter than 32 bytes or a lifetime outside 1..=30 days.
    pub fn new(
        secret: &str,
        algorithm: JwtAlgorithm,
        lifetime_days: u64,
    ) -> Result<Self, AuthError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(AuthError::Config(
                "the JWT secret must be at least 32 characters".into(),
            ));
        }
        if !(1..=30).contains(&lifetime_days) {
            return Err(AuthError::Config(
                "the token lifetime must be 1 to 30 days".into(),
            ));
        }
        Ok(Self {
            secret: secret.as_bytes().to_vec(),
            algorithm,
            lifetime_secs: lifetime_days * 86_400,
        })
    }

    /// An access token for `user`.
    #[must_use]
    pub fn issue(&self, user: UserId) -> IssuedToken {
        self.issue_at(user, OffsetDateTime::now_utc().unix_timestamp(), "access")
    }

    fn issue_at(&self, user: UserId, issued_at: i64, kind: &str) -> IssuedToken {
        let header = json!({"alg": self.algorithm.name(), "typ": "JWT"});
        let expires =
            issued_at.saturating_add(i64::try_from(self.lifetime_secs).unwrap_or(i64::MAX));
        let claims =
            json!({"sub": user.0.to_string(), "exp": expires, "iat": issued_at, "type": kind});
        let signing_input = format!("{}.{}", encode_json(&header), encode_json(&claims));
        let signature =
            URL_SAFE_NO_PAD.encode(self.algorithm.sign(&self.secret, signing_input.as_bytes()));
        IssuedToken {
            token: format!("{signing_input}.{signature}"),
            expires_in: self.lifetime_secs,
        }
    }

    /// The user a valid access token names.
    ///
    /// # Errors
    /// A [`TokenError`] naming the first check that failed, in the reference's order.
    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        let claims = self.verified_claims(token, OffsetDateTime::now_utc().unix_timestamp())?;
        if claims.get("type").and_then(Value::as_str) == Some("refresh") {
            return Err(TokenError::RefreshToken);
        }
        let subject = claims.get("sub").ok_or(TokenError::MissingSubject)?;
        let subject = subject.as_str().ok_or(TokenError::Invalid)?;
        subject
            .parse::<i32>()
            .map(UserId)
            .map_err(|_| TokenError::BadSubject)
    }

    /// Signature, algorithm and time checks; the claims when they pass.
    fn verified_claims(
        &self,
        token: &str,
        now: i64,
    ) -> Result<serde_json::Map<String, Value>, TokenError> {
        let mut parts = token.split('.');
        let (Some(header_part), Some(claims_part), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Invalid);
        };
        let header: Value = decode_json(header_part)?;
        if header.get("alg").and_then(Value::as_str) != Some(self.algorithm.name()) {
            return Err(TokenError::Invalid);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Invalid)?;
        let expected = self.algorithm.sign(
            &self.secret,
            format!("{header_part}.{claims_part}").as_bytes(),
        );
        if !constant_time_eq(&signature, &expected) {
            return Err(TokenError::Invalid);
        }
        let Value::Object(claims) = decode_json(claims_part)? else {
            return Err(TokenError::Invalid);
        };
        let number = |key: &str| {
            claims
                .get(key)
                .map(|v| v.as_f64().ok_or(TokenError::Invalid))
                .transpose()
        };
        if number("exp")?.is_some_and(|exp| exp <= now as f64) {
            return Err(TokenError::Invalid);
        }
        // `iat` must be numeric and not in the future; `nbf`, if present, must have passed.
        if number("iat")?.is_some_and(|iat| iat > now as f64)
            || number("nbf")?.is_some_and(|nbf| nbf > now as f64)
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

fn encode_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn decode_json(part: &str) -> Result<Value, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-123";

    fn service() -> TokenService {
        TokenService::new(SECRET, JwtAlgorithm::HS256, 7).unwrap()
    }

    /// A token signed like PyJWT would sign it, with arbitrary claims.
    fn forge(claims: Value, algorithm: JwtAlgorithm, secret: &str) -> String {
        let header = json!({"alg": algorithm.name(), "typ": "JWT"});
        let input = format!("{}.{}", encode_json(&header), encode_json(&claims));
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(algorithm.sign(secret.as_bytes(), input.as_bytes()))
        )
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_reference_claims() {
        let issued = service().issue(UserId(42));
        assert_eq!(issued.expires_in, 604_800);
        assert_eq!(service().verify(&issued.token), Ok(UserId(42)));
        let claims: Value = decode_json(issued.token.split('.').nth(1).unwrap()).unwrap();
        assert_eq!(claims["sub"], "42");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            604_800
        );
    }

    #[test]
    fn a_token_from_the_python_service_is_accepted() {
        // PyJWT's output for {"sub": "7", "exp": ..., "iat": ...}: no `type` claim.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let token = forge(
            json!({"sub": "7", "exp": now + 60, "iat": now - 5}),
            JwtAlgorithm::HS256,
            SECRET,
        );
        assert_eq!(service().verify(&token), Ok(UserId(7)));
    }

    #[test]
    fn each_rejection_has_its_reason() {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let verify = |claims: Value| service().verify(&forge(claims, JwtAlgorithm::HS256, SECRET));
        assert_eq!(
            verify(json!({"sub": "1", "exp": now - 1, "iat": now - 10})),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(json!({"sub": "1", "exp": now + 60, "iat": now + 600})),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            verify(json!({"sub": "1", "exp": now + 60, "type": "refresh"})),
            Err(TokenError::RefreshToken)
        );
        assert_eq!(
            verify(json!({"exp": now + 60})),
            Err(TokenError::MissingSubject)
        );
        assert_eq!(
            verify(json!({"sub": "abc", "exp": now + 60})),
            Err(TokenError::BadSubject)
        );
        let other_secret = forge(
            json!({"sub": "1", "exp": now + 60}),
            JwtAlgorithm::HS256,
            "another-secret-that-is-long-enough-000",
        );
        assert_eq!(service().verify(&other_secret), Err(TokenError::Invalid));
        let other_algorithm = forge(
            json!({"sub": "1", "exp": now + 60}),
            JwtAlgorithm::HS512,
            SECRET,
        );
        assert_eq!(service().verify(&other_algorithm), Err(TokenError::Invalid));
        let mut tampered = service().issue(UserId(1)).token;
        tampered.insert(tampered.len() / 2, 'x');
        assert_eq!(service().verify(&tampered), Err(TokenError::Invalid));
        for garbage in ["", "a.b", "a.b.c.d", "....", "é.é.é"] {
            assert_eq!(service().verify(garbage), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenService::new("short", JwtAlgorithm::HS256, 7).is_err());
        assert!(TokenService::new(SECRET, JwtAlgorithm::HS256, 31).is_err());
    }
}
