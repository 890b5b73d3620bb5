//! Access tokens: JWTs signed with HMAC (HS256 by default; HS384 and HS512 configurable) by
//! the `jsonwebtoken` crate (its signature checks are constant-time), with the reference
//! service's claims (`sub` = user id as a string, `iat`, `exp`) plus `type`, so tokens issued
//! by the Python service stay valid when the same secret is deployed.
//!
//! Only the configured algorithm is accepted (`alg: none`, or an RS256 header on an HMAC
//! secret, are refused); `exp` is required; no leeway is granted, as PyJWT grants none; `iat`
//! must not be in the future; `type: "refresh"` tokens are refused as access tokens. Each
//! rejection has the reference's message (`docs/api.md` 1.2).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lia_domain::{Secret, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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
    fn jsonwebtoken(self) -> Algorithm {
        match self {
            Self::HS256 => Algorithm::HS256,
            Self::HS384 => Algorithm::HS384,
            Self::HS512 => Algorithm::HS512,
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
    encoding: EncodingKey,
    decoding: DecodingKey,
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

/// The claims this service writes.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    exp: i64,
    iat: i64,
    #[serde(rename = "type")]
    kind: &'a str,
}

impl TokenService {
    /// Shortest secret accepted, in bytes.
    pub const MIN_SECRET_LEN: usize = 32;

    /// A service signing with `secret`, issuing tokens valid for `lifetime_days`.
    ///
    /// # Errors
    /// [`AuthError::Config`] for a secret shorter than 32 bytes or a lifetime outside 1..=30 days.
    pub fn new(
        secret: &Secret,
        algorithm: JwtAlgorithm,
        lifetime_days: u64,
    ) -> Result<Self, AuthError> {
        if secret.expose().len() < Self::MIN_SECRET_LEN {
            return Err(AuthError::Config(
                "the JWT secret must be at least 32 characters".into(),
            ));
        }
        if !(1..=30).contains(&lifetime_days) {
            return Err(AuthError::Config(
                "the token lifetime must be 1 to 30 days".into(),
            ));
        }
        let key = secret.expose().as_bytes();
        Ok(Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
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
        let claims = IssuedClaims {
            sub: user.0.to_string(),
            exp: issued_at.saturating_add(i64::try_from(self.lifetime_secs).unwrap_or(i64::MAX)),
            iat: issued_at,
            kind,
        };
        // Encoding HMAC claims that serialise cannot fail; an empty token would be refused.
        let token = jsonwebtoken::encode(
            &Header::new(self.algorithm.jsonwebtoken()),
            &claims,
            &self.encoding,
        )
        .unwrap_or_default();
        IssuedToken {
            token,
            expires_in: self.lifetime_secs,
        }
    }

    /// The user a valid access token names.
    ///
    /// # Errors
    /// A [`TokenError`] naming the first check that failed, in the reference's order.
    pub fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        self.verify_at(token, OffsetDateTime::now_utc().unix_timestamp())
    }

    fn verify_at(&self, token: &str, now: i64) -> Result<UserId, TokenError> {
        let claims = self.verified_claims(token, now)?;
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
        let mut validation = Validation::new(self.algorithm.jsonwebtoken());
        validation.leeway = 0;
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = ["exp"].into_iter().map(String::from).collect();
        let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(
            token,
            &self.decoding,
            &validation,
        )
        .map_err(|_| TokenError::Invalid)?
        .claims;
        // The time checks on our clock (the crate's reads the system clock): PyJWT's rules,
        // without leeway.
        let number = |key: &str| {
            claims
                .get(key)
                .map(|v| v.as_f64().ok_or(TokenError::Invalid))
                .transpose()
        };
        #[expect(
            clippy::cast_precision_loss,
            reason = "seconds since the epoch are exact"
        )]
        let now = now as f64;
        if number("exp")?.is_none_or(|exp| exp <= now) {
            return Err(TokenError::Invalid);
        }
        if number("iat")?.is_some_and(|iat| iat > now)
            || number("nbf")?.is_some_and(|nbf| nbf > now)
        {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;

    const SECRET: &str = "a-test-secret-that-is-long-enough-123";

    fn service() -> TokenService {
        TokenService::new(&Secret::new(SECRET), JwtAlgorithm::HS256, 7).unwrap()
    }

    /// A token signed like PyJWT would sign it, with arbitrary claims.
    fn forge(claims: Value, algorithm: JwtAlgorithm, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(algorithm.jsonwebtoken()),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    /// A token with any header, its signature the HS256 MAC of `secret` (or none).
    fn with_header(header: Value, claims: Value, secret: Option<&str>) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = secret.map_or_else(String::new, |secret| {
            let key = EncodingKey::from_secret(secret.as_bytes());
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).unwrap()
        });
        format!("{input}.{signature}")
    }

    fn claims_of(token: &str) -> Value {
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_reference_claims() {
        let issued = service().issue(UserId(42));
        assert_eq!(issued.expires_in, 604_800);
        assert_eq!(service().verify(&issued.token), Ok(UserId(42)));
        let claims = claims_of(&issued.token);
        assert_eq!(claims["sub"], "42");
        assert_eq!(claims["type"], "access");
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
            verify(json!({"sub": "1", "iat": now - 10})),
            Err(TokenError::Invalid),
            "exp is required"
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
        assert_eq!(
            verify(json!({"sub": 1, "exp": now + 60})),
            Err(TokenError::Invalid),
            "sub must be a string"
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
    fn alg_none_and_an_rs256_header_on_the_hmac_secret_are_refused() {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = json!({"sub": "1", "exp": now + 60});
        for header in [
            json!({"alg": "none", "typ": "JWT"}),
            json!({"alg": "None", "typ": "JWT"}),
        ] {
            let unsigned = with_header(header, claims.clone(), None);
            assert_eq!(service().verify(&unsigned), Err(TokenError::Invalid));
        }
        // The HMAC of the secret under an RS256 header: an algorithm-confusion attempt.
        let confused = with_header(json!({"alg": "RS256", "typ": "JWT"}), claims, Some(SECRET));
        assert_eq!(service().verify(&confused), Err(TokenError::Invalid));
    }

    #[test]
    fn the_clock_edges_grant_no_leeway() {
        let now = 1_800_000_000;
        let at =
            |claims: Value| service().verify_at(&forge(claims, JwtAlgorithm::HS256, SECRET), now);
        assert_eq!(
            at(json!({"sub": "1", "exp": now + 1, "iat": now})),
            Ok(UserId(1))
        );
        assert_eq!(
            at(json!({"sub": "1", "exp": now, "iat": now - 1})),
            Err(TokenError::Invalid),
            "expired at exactly now, as PyJWT says"
        );
        assert_eq!(
            at(json!({"sub": "1", "exp": now + 60, "iat": now + 1})),
            Err(TokenError::Invalid),
            "issued a second in the future"
        );
        assert_eq!(
            at(json!({"sub": "1", "exp": now + 60, "nbf": now + 1})),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            at(json!({"sub": "1", "exp": now + 60, "nbf": now})),
            Ok(UserId(1))
        );
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenService::new(&Secret::new("short"), JwtAlgorithm::HS256, 7).is_err());
        assert!(TokenService::new(&Secret::new(SECRET), JwtAlgorithm::HS256, 31).is_err());
    }
}
