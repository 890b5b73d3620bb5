//! The migrations themselves: up, down and up again on an empty database.

use lia_migration::{Migrator, MigratorTrait};

use crate::support::backends;

#[tokio::test]
async fn migrations_roll_back_and_reapply() {
    for db in backends().await {
        let applied = Migrator::get_applied_migrations(&db.connection)
            .await
            .unwrap();
        assert_eq!(applied.len(), Migrator::migrations().len(), "{}", db.name);
        Migrator::down(&db.connection, None).await.unwrap();
        let manager = sea_orm_migration::SchemaManager::new(&db.connection);
        assert!(
            !manager.has_table("messages").await.unwrap(),
            "{}: down drops the tables",
            db.name
        );
        Migrator::up(&db.connection, None).await.unwrap();
        assert!(manager.has_table("messages").await.unwrap());
        assert!(
            manager
                .has_index("messages", "ix_messages_conversation_created_id")
                .await
                .unwrap()
        );
        // The schema works again after the round trip.
        let ada = db.user("ada").await;
        db.start(&ada, "hello").await;
        db.finish().await;
    }
}

/// Instances that start together on a new database migrate it once: the others wait for the
/// migration lock, then find nothing to do. Directly and behind a transaction-mode pooler
/// (where migrations take the session-capable `migration_url`).
#[tokio::test]
async fn instances_starting_together_migrate_once() {
    use lia_store::testing::ScratchDatabase;
    use lia_store::{Database, StoreConfig};

    let scratches = [
        ScratchDatabase::create().await,
        ScratchDatabase::create_behind_pooler().await,
    ];
    let mut tried = 0;
    for scratch in scratches.into_iter().flatten() {
        tried += 1;
        let config = StoreConfig {
            max_connections: 2,
            min_connections: 0,
            ..scratch.store_config()
        };
        let starts = (0..6).map(|_| {
            let config = config.clone();
            tokio::spawn(async move {
                let database = Database::open(&config).await.unwrap();
                let outcome = database.migrate().await;
                database.close().await;
                outcome
            })
        });
        for outcome in futures::future::join_all(starts).await {
            outcome.unwrap().expect("every instance starts");
        }
        let direct = Database::open(&StoreConfig {
            database_url: Some(scratch.direct_url().to_owned().into()),
            ..StoreConfig::default()
        })
        .await
        .unwrap();
        let applied = Migrator::get_applied_migrations(direct.writes())
            .await
            .unwrap();
        assert_eq!(
            applied.len(),
            Migrator::migrations().len(),
            "{}",
            scratch.url
        );
        direct.close().await;
        scratch.drop_database().await;
    }
    if tried == 0 {
        println!("LIA_TEST_DATABASE_URL is not set: skipping concurrent migrations");
    }
}
