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
