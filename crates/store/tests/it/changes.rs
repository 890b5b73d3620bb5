//! Delete one, delete all, rename: owner-scoped, cascading, reporting what they did.

use lia_domain::{
    ConversationId, ConversationRepository, HistoryPage, MessageWindow, RepositoryError, Title,
};
use sea_orm::{ConnectionTrait, Statement};

use crate::support::{TestDb, backends};

async fn n_messages(db: &TestDb, id: ConversationId) -> i64 {
    let backend = db.connection.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let row = db
        .connection
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT COUNT(*) AS n FROM messages WHERE conversation_id = {placeholder}"),
            [id.0.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn deleting_cascades_to_messages_and_respects_the_owner() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let started = db.start(&ada, "hello").await;
        db.exchange(&ada, &started, "again").await;
        let id = started.conversation.id;
        assert_eq!(n_messages(&db, id).await, 3);

        assert!(matches!(
            db.conversations.delete(bob.id, id).await,
            Err(RepositoryError::NotFound)
        ));
        assert_eq!(
            n_messages(&db, id).await,
            3,
            "{}: a foreign delete changes nothing",
            db.name
        );

        db.conversations.delete(ada.id, id).await.unwrap();
        assert_eq!(
            n_messages(&db, id).await,
            0,
            "{}: messages cascade",
            db.name
        );
        assert!(matches!(
            db.conversations
                .detail(ada.id, id, MessageWindow::default())
                .await,
            Err(RepositoryError::NotFound)
        ));
        assert!(matches!(
            db.conversations.delete(ada.id, id).await,
            Err(RepositoryError::NotFound)
        ));
        db.finish().await;
    }
}

#[tokio::test]
async fn delete_all_counts_and_spares_other_users() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        for text in ["a", "b", "c"] {
            db.start(&ada, text).await;
        }
        let bobs = db.start(&bob, "mine").await;
        assert_eq!(
            db.conversations.delete_all(ada.id).await.unwrap(),
            3,
            "{}",
            db.name
        );
        assert_eq!(db.conversations.delete_all(ada.id).await.unwrap(), 0);
        assert!(
            db.conversations
                .history(ada.id, HistoryPage::default())
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(n_messages(&db, bobs.conversation.id).await, 1);
        db.finish().await;
    }
}

#[tokio::test]
async fn rename_sets_the_title_exactly_and_bumps_updated_at() {
    for db in backends().await {
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let started = db.start(&ada, "hello").await;
        let id = started.conversation.id;
        let renamed = db
            .conversations
            .rename(ada.id, id, Title::parse("  spaced  ").unwrap())
            .await
            .unwrap();
        assert_eq!(renamed.title.as_deref(), Some("  spaced  "), "{}", db.name);
        assert!(renamed.updated_at > started.conversation.updated_at);

        let foreign = db
            .conversations
            .rename(bob.id, id, Title::parse("mine now").unwrap())
            .await;
        assert!(matches!(foreign, Err(RepositoryError::NotFound)));
        let page = db
            .conversations
            .detail(ada.id, id, MessageWindow::default())
            .await
            .unwrap();
        assert_eq!(page.conversation.title.as_deref(), Some("  spaced  "));
        db.finish().await;
    }
}
