//! [`Accounts`] over SQLite: what a client can and cannot do with credentials and tokens.

use std::sync::Arc;

use lia_auth::{AccountError, Accounts, HashingConfig, JwtAlgorithm, PasswordHasher, TokenService};
use lia_domain::{Email, NewUser, Password, PasswordHash, Secret, UserRepository, Username};
use lia_store::testing::ScratchSqlite;

const PASSWORD: &str = "Correct-horse-battery-1";

struct Fixture {
    sqlite: ScratchSqlite,
    accounts: Accounts,
}

async fn fixture() -> Fixture {
    let sqlite = ScratchSqlite::create().await;
    // The cheapest parameters: these tests are about the rules, not the hashing cost.
    let hasher = PasswordHasher::new(&HashingConfig {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
        legacy_bcrypt_cost: 4,
    })
    .unwrap();
    let tokens = TokenService::new(
        &Secret::new("a test secret of at least thirty-two bytes"),
        JwtAlgorithm::default(),
        1,
    )
    .unwrap();
    let accounts = Accounts::new(Arc::new(sqlite.database.users()), hasher, tokens);
    Fixture { sqlite, accounts }
}

fn email(name: &str) -> Email {
    Email::parse(&format!("{name}@example.com")).unwrap()
}

async fn register(fixture: &Fixture, name: &str) -> lia_auth::Session {
    fixture
        .accounts
        .register(
            email(name),
            Username::parse(name).unwrap(),
            Password::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_registered_user_signs_in_and_their_tokens_name_them() {
    let fixture = fixture().await;
    let registered = register(&fixture, "ada").await;
    let signed_in = fixture
        .accounts
        .login(&email("ada"), PASSWORD)
        .await
        .unwrap();
    assert_eq!(signed_in.user.id, registered.user.id);
    for token in [&registered.token, &signed_in.token] {
        let user = fixture.accounts.authenticate(&token.token).await.unwrap();
        assert_eq!(user.id, registered.user.id);
    }
    let refreshed = fixture.accounts.refresh(&registered.user);
    let user = fixture
        .accounts
        .authenticate(&refreshed.token)
        .await
        .unwrap();
    assert_eq!(user.username, registered.user.username);
}

#[tokio::test]
async fn wrong_credentials_are_one_refusal_whatever_was_wrong() {
    let fixture = fixture().await;
    register(&fixture, "ada").await;
    let wrong_password = fixture
        .accounts
        .login(&email("ada"), "Not-the-password-1")
        .await;
    let unknown = fixture.accounts.login(&email("nobody"), PASSWORD).await;
    for outcome in [wrong_password, unknown] {
        assert!(
            matches!(outcome, Err(AccountError::InvalidCredentials)),
            "{:?}",
            outcome.map(|s| s.user.id)
        );
    }
    let long = "x".repeat(10_000);
    let too_long = fixture.accounts.login(&email("ada"), &long).await;
    assert!(matches!(too_long, Err(AccountError::PasswordTooLong)));
}

#[tokio::test]
async fn an_email_or_a_username_is_taken_once() {
    let fixture = fixture().await;
    register(&fixture, "ada").await;
    let password = || Password::parse(PASSWORD).unwrap();
    let same_email = fixture
        .accounts
        .register(email("ada"), Username::parse("other").unwrap(), password())
        .await;
    let same_name = fixture
        .accounts
        .register(email("other"), Username::parse("ada").unwrap(), password())
        .await;
    for outcome in [same_email, same_name] {
        assert!(matches!(outcome, Err(AccountError::AlreadyExists)));
    }
}

#[tokio::test]
async fn a_legacy_bcrypt_hash_signs_in_and_is_replaced_by_argon2id() {
    let fixture = fixture().await;
    let users = fixture.sqlite.database.users();
    let legacy = bcrypt::hash(PASSWORD, 4).unwrap();
    users
        .create(NewUser {
            email: email("old"),
            username: Username::parse("old").unwrap(),
            password_hash: PasswordHash(legacy.clone()),
        })
        .await
        .unwrap();
    fixture
        .accounts
        .login(&email("old"), PASSWORD)
        .await
        .unwrap();
    let stored = users
        .find_credentials(&email("old"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.0.starts_with("$argon2id$"),
        "rehashed: {}",
        &stored.password_hash.0[..10]
    );
    assert_ne!(stored.password_hash.0, legacy);
    fixture
        .accounts
        .login(&email("old"), PASSWORD)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_that_is_not_ours_or_names_no_user_is_refused() {
    let fixture = fixture().await;
    let session = register(&fixture, "ada").await;
    let mut tampered = session.token.token.clone();
    tampered.push('x');
    let foreign = TokenService::new(
        &Secret::new("another secret of at least thirty-two bytes"),
        JwtAlgorithm::default(),
        1,
    )
    .unwrap()
    .issue(session.user.id);
    for token in [tampered.as_str(), foreign.token.as_str(), "not a token"] {
        let outcome = fixture.accounts.authenticate(token).await;
        assert!(matches!(outcome, Err(AccountError::Token(_))), "{token}");
    }
    let nobody = fixture.accounts.refresh(&lia_domain::User {
        id: lia_domain::UserId(9_999),
        ..session.user.clone()
    });
    let outcome = fixture.accounts.authenticate(&nobody.token).await;
    assert!(matches!(outcome, Err(AccountError::UserNotFound)));
}
