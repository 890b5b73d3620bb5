//! Password hashing: Argon2id for new hashes, legacy bcrypt still verified, all of it on the
//! blocking thread pool behind a semaphore, so a flood of logins queues instead of starving
//! the async runtime or exhausting memory (each Argon2 hash holds `memory_kib` of RAM).

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash as Phc, PasswordHasher as _, PasswordVerifier as _,
    Version,
};
use lia_domain::PasswordHash;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::error::AuthError;

/// Argon2id cost parameters and the concurrency bound.
///
/// The defaults are argon2-cffi's (`m=65536, t=3, p=4`), which the reference service used,
/// so its hashes verify without a rehash: about 64 MiB and 50–150 ms of CPU per hash on a
/// current server core. Lower them only for tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashingConfig {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Hashes computed at once; the rest wait. Defaults to the number of CPUs.
    pub max_concurrent: usize,
    /// The bcrypt cost of the legacy hashes still stored (the reference service used 12).
    /// While set, every verification also runs the other scheme against a dummy hash, so an
    /// unknown email, a wrong password on an Argon2 account and a wrong password on a legacy
    /// bcrypt account all take the same time (argon2 + bcrypt). Set it to 0 (off) once no
    /// bcrypt hash remains (each successful login rehashes) to save the bcrypt time.
    pub legacy_bcrypt_cost: u32,
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self {
            memory_kib: 65_536,
            iterations: 3,
            parallelism: 4,
            max_concurrent: std::thread::available_parallelism().map_or(2, usize::from),
            legacy_bcrypt_cost: 12,
        }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Wrong password, malformed hash, or no such user.
    Mismatch,
    /// Right password; `needs_rehash` when the hash is bcrypt or has outdated parameters.
    Valid {
        /// Whether the caller should store a fresh hash.
        needs_rehash: bool,
    },
}

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified when the user does not exist, so an unknown
    /// email costs the same time as a wrong password.
    dummy_hash: Arc<str>,
    /// The same for bcrypt at the legacy cost, verified next to every Argon2 hash (and the
    /// Argon2 dummy next to every bcrypt one), when legacy hashes may exist.
    dummy_bcrypt: Option<Arc<str>>,
}

/// Characters of random bytes in `alphabet`, one per byte (the modulo bias is irrelevant
/// for a hash that only has to match nothing).
fn random_text(n: usize, alphabet: &[u8]) -> String {
    (0..n.div_ceil(16))
        .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
        .take(n)
        .map(|byte| char::from(alphabet[usize::from(byte) % alphabet.len()]))
        .collect()
}

/// `$2b$<cost>$<22 salt chars><31 output chars>` in bcrypt's base64 alphabet: verifying it
/// costs exactly what a real hash of that cost does, and it matches no password. The last
/// character of the salt and of the output is one whose unused low bits are zero, as bcrypt
/// writes them (the crate refuses the hash otherwise).
fn dummy_bcrypt(cost: u32) -> String {
    const ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    format!(
        "$2b${cost:02}${}{}{}{}",
        random_text(21, ALPHABET),
        random_text(1, b".Oeu"),
        random_text(30, ALPHABET),
        random_text(1, b".CGKOSWaeimquy26"),
    )
}

/// `$argon2id$v=19$m=..,t=..,p=..$<salt>$<output>` with a random 16-byte salt and a random
/// 32-byte output (PHC's unpadded standard base64).
fn dummy_hash(config: &HashingConfig) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let random = |n: usize| -> Vec<u8> {
        (0..n.div_ceil(16))
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .take(n)
            .collect()
    };
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        config.memory_kib,
        config.iterations,
        config.parallelism,
        STANDARD_NO_PAD.encode(random(16)),
        STANDARD_NO_PAD.encode(random(32)),
    )
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher with `config`'s parameters. Its dummy hash is built, not computed: a PHC
    /// string with these parameters, a random salt and a random output verifies in exactly
    /// the time of a real one and matches no password, so start-up does no hashing.
    ///
    /// # Errors
    /// [`AuthError::Config`] when the parameters are out of Argon2's ranges.
    pub fn new(config: &HashingConfig) -> Result<Self, AuthError> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            Some(32),
        )
        .map_err(|e| AuthError::Config(format!("argon2 parameters: {e}")))?;
        let dummy_hash = dummy_hash(config);
        let dummy_bcrypt = match config.legacy_bcrypt_cost {
            0 => None,
            cost @ 4..=31 => Some(dummy_bcrypt(cost).into()),
            cost => {
                return Err(AuthError::Config(format!(
                    "legacy_bcrypt_cost must be 0 (off) or 4 to 31, not {cost}"
                )));
            }
        };
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            dummy_hash: dummy_hash.into(),
            dummy_bcrypt,
        })
    }

    /// The hash verified for unknown users (for tests of its form).
    #[must_use]
    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }

    /// A new Argon2id hash of `password` in PHC form.
    ///
    /// # Errors
    /// [`AuthError::Hashing`] if hashing fails (it should not).
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, AuthError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.on_blocking_pool(move || hash_blocking(&params, &password))
            .await?
            .map(PasswordHash)
    }

    /// Checks `password` against `stored`; with `None` (unknown user) it verifies against a
    /// dummy hash and reports a mismatch, taking the same time.
    ///
    /// # Errors
    /// [`AuthError::Hashing`] only if the blocking pool is gone (shutdown).
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&PasswordHash>,
    ) -> Result<Verification, AuthError> {
        let known_user = stored.is_some();
        let hash = stored.map_or_else(|| self.dummy_hash.to_string(), |h| h.0.clone());
        let password = password.to_owned();
        let params = self.params.clone();
        // The scheme the stored hash does not use is run on its dummy, so which scheme an
        // account has (or whether it exists) does not show in the time taken.
        let other = if is_bcrypt(&hash) {
            self.dummy_bcrypt.as_ref().map(|_| self.dummy_hash.clone())
        } else {
            self.dummy_bcrypt.clone()
        };
        let verification = self
            .on_blocking_pool(move || {
                if let Some(other) = other {
                    let _ = verify_blocking(&params, &password, &other);
                }
                verify_blocking(&params, &password, &hash)
            })
            .await?;
        Ok(if known_user {
            verification
        } else {
            Verification::Mismatch
        })
    }

    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AuthError::Hashing("hasher closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AuthError::Hashing(format!("hashing task failed: {e}")))
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, AuthError> {
    argon2(params)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

fn is_bcrypt(stored: &str) -> bool {
    stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$")
}

fn verify_blocking(params: &Params, password: &str, stored: &str) -> Verification {
    if is_bcrypt(stored) {
        // bcrypt hashed only the first 72 bytes when the hash was made, so compare those:
        // the reference's bcrypt 5 refused longer passwords and locked such users out.
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verification::Valid { needs_rehash: true },
            _ => Verification::Mismatch,
        };
    }
    let Ok(parsed) = Phc::new(stored) else {
        return Verification::Mismatch;
    };
    if argon2(params)
        .verify_password(password.as_bytes(), &parsed)
        .is_err()
    {
        return Verification::Mismatch;
    }
    let current = Params::try_from(&parsed).ok();
    let up_to_date = parsed.algorithm.as_str() == "argon2id"
        && current.is_some_and(|p| {
            p.m_cost() == params.m_cost()
                && p.t_cost() == params.t_cost()
                && p.p_cost() == params.p_cost()
        });
    Verification::Valid {
        needs_rehash: !up_to_date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> HashingConfig {
        HashingConfig {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 2,
            legacy_bcrypt_cost: 4,
        }
    }

    #[test]
    fn the_bcrypt_dummy_parses_and_is_computed_at_its_cost() {
        // Random every time: many tries at the cheap cost, one at the reference's.
        for cost in std::iter::repeat_n(4, 64).chain([12]) {
            let dummy = dummy_bcrypt(cost);
            assert!(dummy.starts_with(&format!("$2b${cost:02}$")), "{dummy}");
            assert_eq!(dummy.len(), 60);
            // Ok(false), not Err: the hash parsed, so the whole cost was paid.
            assert_eq!(
                bcrypt::verify("Secret123", &dummy).ok(),
                Some(false),
                "{dummy}"
            );
        }
        assert!(
            PasswordHasher::new(&HashingConfig {
                legacy_bcrypt_cost: 40,
                ..fast()
            })
            .is_err()
        );
    }

    #[test]
    fn the_dummy_hash_is_a_real_hash_with_the_configured_parameters() {
        let hasher = PasswordHasher::new(&HashingConfig::default()).unwrap();
        let phc = Phc::new(hasher.dummy_hash()).unwrap();
        assert_eq!(phc.algorithm.as_str(), "argon2id");
        assert_eq!(Params::try_from(&phc).unwrap(), hasher.params);
        assert_eq!(phc.hash.map(|output| output.len()), Some(32));
        let other = PasswordHasher::new(&HashingConfig::default()).unwrap();
        assert_ne!(
            hasher.dummy_hash(),
            other.dummy_hash(),
            "random per process"
        );
    }

    #[tokio::test]
    async fn argon2id_hashes_verify_and_reject_wrong_passwords() {
        let hasher = PasswordHasher::new(&fast()).unwrap();
        let hash = hasher.hash("Secret123").await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(
            hasher.verify("Secret123", Some(&hash)).await.unwrap(),
            Verification::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher.verify("secret123", Some(&hash)).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(
            hasher.verify("Secret123", None).await.unwrap(),
            Verification::Mismatch
        );
        let garbage = PasswordHash("not a hash".into());
        assert_eq!(
            hasher.verify("Secret123", Some(&garbage)).await.unwrap(),
            Verification::Mismatch
        );
    }

    #[tokio::test]
    async fn legacy_and_outdated_hashes_ask_for_a_rehash() {
        let hasher = PasswordHasher::new(&fast()).unwrap();
        let bcrypt_hash = PasswordHash(bcrypt::hash("Secret123", 4).unwrap());
        assert_eq!(
            hasher
                .verify("Secret123", Some(&bcrypt_hash))
                .await
                .unwrap(),
            Verification::Valid { needs_rehash: true }
        );
        assert_eq!(
            hasher.verify("Wrong123", Some(&bcrypt_hash)).await.unwrap(),
            Verification::Mismatch
        );
        let long = "A1".repeat(50);
        let long_hash = PasswordHash(bcrypt::hash(&long, 4).unwrap());
        assert_eq!(
            hasher.verify(&long, Some(&long_hash)).await.unwrap(),
            Verification::Valid { needs_rehash: true }
        );

        let stronger = PasswordHasher::new(&HashingConfig {
            memory_kib: 2048,
            ..fast()
        })
        .unwrap();
        let old = hasher.hash("Secret123").await.unwrap();
        assert_eq!(
            stronger.verify("Secret123", Some(&old)).await.unwrap(),
            Verification::Valid { needs_rehash: true }
        );
    }
}
