//! Accounts: creation, look-ups, uniqueness (also under a race), hash updates.

use lia_domain::{Email, NewUser, PasswordHash, RepositoryError, UserRepository, Username};

use crate::support::backends;

fn new_user(email: &str, username: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        username: Username::parse(username).unwrap(),
        password_hash: PasswordHash("hash-1".into()),
    }
}

#[tokio::test]
async fn users_are_created_and_found() {
    for db in backends().await {
        let user = db
            .users
            .create(new_user("Ada@Example.com", "ada"))
            .await
            .unwrap();
        assert_eq!(user.email.as_str(), "Ada@example.com", "{}", db.name);
        assert_eq!(
            db.users.find_by_id(user.id).await.unwrap(),
            Some(user.clone())
        );
        let credentials = db
            .users
            .find_credentials(&user.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(credentials.user, user);
        assert_eq!(credentials.password_hash, PasswordHash("hash-1".into()));
        // The local part is case-sensitive, as in the reference.
        let other_case = Email::parse("ada@example.com").unwrap();
        assert_eq!(db.users.find_credentials(&other_case).await.unwrap(), None);

        let taken_name = Username::parse("ada").unwrap();
        let free_email = Email::parse("free@example.com").unwrap();
        assert!(db.users.exists(&free_email, &taken_name).await.unwrap());
        assert!(
            !db.users
                .exists(&free_email, &Username::parse("free").unwrap())
                .await
                .unwrap()
        );

        db.users
            .update_password_hash(user.id, PasswordHash("hash-2".into()))
            .await
            .unwrap();
        let credentials = db
            .users
            .find_credentials(&user.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(credentials.password_hash, PasswordHash("hash-2".into()));
        assert!(matches!(
            db.users
                .update_password_hash(lia_domain::UserId(9999), PasswordHash("x".into()))
                .await,
            Err(RepositoryError::NotFound)
        ));
        db.finish().await;
    }
}

#[tokio::test]
async fn duplicate_email_or_username_is_a_conflict() {
    for db in backends().await {
        db.users
            .create(new_user("a@example.com", "alpha"))
            .await
            .unwrap();
        let same_email = db.users.create(new_user("a@example.com", "beta")).await;
        assert!(
            matches!(same_email, Err(RepositoryError::Conflict(_))),
            "{}: {same_email:?}",
            db.name
        );
        let same_name = db.users.create(new_user("b@example.com", "alpha")).await;
        assert!(
            matches!(same_name, Err(RepositoryError::Conflict(_))),
            "{}",
            db.name
        );
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_registrations_of_one_email_admit_exactly_one() {
    for db in backends().await {
        let attempts = (0..8).map(|i| {
            let users = db.users.clone();
            tokio::spawn(async move {
                users
                    .create(new_user("race@example.com", &format!("racer{i}")))
                    .await
            })
        });
        let results = futures::future::join_all(attempts).await;
        let n_created = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        let n_conflicts = results
            .iter()
            .filter(|r| matches!(r, Ok(Err(RepositoryError::Conflict(_)))))
            .count();
        assert_eq!((n_created, n_conflicts), (1, 7), "{}", db.name);
        db.finish().await;
    }
}
