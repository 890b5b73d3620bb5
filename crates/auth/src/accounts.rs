//! Account rules: registration, login (with rehash of legacy hashes), and authentication of a
//! token to a user. Authentication reads the user from the database (one primary-key lookup)
//! unless the [`ProfileCache`] read it less than its TTL ago: an account deleted in the
//! database is refused within that bound (at once with the cache off).

use std::sync::Arc;

use lia_domain::{Email, NewUser, Password, RepositoryError, User, UserRepository, Username};

use crate::password::{PasswordHasher, Verification};
use crate::profiles::ProfileCache;
use crate::tokens::{IssuedToken, TokenError, TokenService};

/// Longest password accepted at login; registration allows 100 characters, and legacy
/// bcrypt users used at most 72 bytes, so anything longer is refused before any hashing.
pub const MAX_LOGIN_PASSWORD_CHARS: usize = 1_000;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The email or username is taken (seen before inserting).
    #[error("An account with this email or username already exists")]
    AlreadyExists,
    /// The email or username was taken by a concurrent registration (the insert lost the race).
    #[error("An account with this email or username already exists")]
    Conflict,
    /// Unknown email or wrong password: one message for both.
    #[error("Invalid email or password")]
    InvalidCredentials,
    /// The login password is longer than any account can have.
    #[error("password: must be at most 1000 characters")]
    PasswordTooLong,
    /// The token was refused.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token names a user that no longer exists.
    #[error("User not found")]
    UserNotFound,
    /// Storage failed.
    #[error("storage failure")]
    Repository(#[source] RepositoryError),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hashing(#[source] crate::AuthError),
}

/// A signed-in user and their token.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// Their new access token.
    pub token: IssuedToken,
}

/// The account service.
#[derive(Clone)]
pub struct Accounts {
    users: Arc<dyn UserRepository>,
    hasher: PasswordHasher,
    tokens: TokenService,
    profiles: ProfileCache,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// The service over `users`, reading every token's user from it.
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: PasswordHasher,
        tokens: TokenService,
    ) -> Self {
        Self {
            users,
            hasher,
            tokens,
            profiles: ProfileCache::disabled(),
        }
    }

    /// The same service with the account check answered from `profiles` when fresh.
    #[must_use]
    pub fn with_profile_cache(mut self, profiles: ProfileCache) -> Self {
        self.profiles = profiles;
        self
    }

    /// The profile cache, for its counters.
    #[must_use]
    pub fn profiles(&self) -> &ProfileCache {
        &self.profiles
    }

    /// Registers a user and signs them in.
    ///
    /// # Errors
    /// [`AccountError::AlreadyExists`] when the email or username is taken,
    /// [`AccountError::Conflict`] when a concurrent registration took it first.
    pub async fn register(
        &self,
        email: Email,
        username: Username,
        password: Password,
    ) -> Result<Session, AccountError> {
        if self
            .users
            .exists(&email, &username)
            .await
            .map_err(AccountError::Repository)?
        {
            return Err(AccountError::AlreadyExists);
        }
        let password_hash = self
            .hasher
            .hash(password.expose())
            .await
            .map_err(AccountError::Hashing)?;
        let user = self
            .users
            .create(NewUser {
                email,
                username,
                password_hash,
            })
            .await
            .map_err(|error| match error {
                RepositoryError::Conflict(_) => AccountError::Conflict,
                other => AccountError::Repository(other),
            })?;
        Ok(self.session(user))
    }

    /// Signs a user in; a legacy or outdated hash is replaced by a fresh Argon2id hash.
    ///
    /// # Errors
    /// [`AccountError::InvalidCredentials`] for an unknown email or a wrong password, after
    /// the same amount of hashing work either way.
    pub async fn login(&self, email: &Email, password: &str) -> Result<Session, AccountError> {
        if password.chars().count() > MAX_LOGIN_PASSWORD_CHARS {
            return Err(AccountError::PasswordTooLong);
        }
        let credentials = self
            .users
            .find_credentials(email)
            .await
            .map_err(AccountError::Repository)?;
        let verification = self
            .hasher
            .verify(password, credentials.as_ref().map(|c| &c.password_hash))
            .await
            .map_err(AccountError::Hashing)?;
        let (Verification::Valid { needs_rehash }, Some(credentials)) = (verification, credentials)
        else {
            return Err(AccountError::InvalidCredentials);
        };
        if needs_rehash {
            self.rehash(&credentials.user, password).await;
        }
        Ok(self.session(credentials.user))
    }

    /// The user an access token belongs to.
    ///
    /// # Errors
    /// [`AccountError::Token`] with the refusal reason, or [`AccountError::UserNotFound`].
    pub async fn authenticate(&self, token: &str) -> Result<User, AccountError> {
        let id = self.tokens.verify(token)?;
        if let Some(user) = self.profiles.get(id) {
            return Ok(user);
        }
        let user = self
            .users
            .find_by_id(id)
            .await
            .map_err(AccountError::Repository)?
            .ok_or(AccountError::UserNotFound)?;
        self.profiles.put(&user);
        Ok(user)
    }

    /// A fresh token for an authenticated user.
    #[must_use]
    pub fn refresh(&self, user: &User) -> IssuedToken {
        self.tokens.issue(user.id)
    }

    fn session(&self, user: User) -> Session {
        // Just read from the database: the requests that follow a sign-in need not read it.
        self.profiles.put(&user);
        let token = self.tokens.issue(user.id);
        Session { user, token }
    }

    /// Best effort: a failed rehash leaves the old (still valid) hash in place.
    async fn rehash(&self, user: &User, password: &str) {
        let outcome = match self.hasher.hash(password).await {
            Ok(hash) => self
                .users
                .update_password_hash(user.id, hash)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok(()) => tracing::info!(user_id = %user.id, "password hash upgraded to argon2id"),
            Err(error) => tracing::warn!(user_id = %user.id, %error, "password rehash failed"),
        }
    }
}
