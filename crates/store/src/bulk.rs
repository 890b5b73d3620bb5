//! Bulk import, for seeding development and benchmark data fast: multi-row inserts inside one
//! transaction per batch, instead of one round trip per row. Not used on request paths.

use lia_domain::{ConversationId, NewUser, RepositoryError, Role, UserId};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entities::{conversation, message, user};
use crate::error::repository_error;
use crate::timestamps::to_db;

/// Rows per `INSERT`: well under SQLite's and PostgreSQL's bind-parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

/// A conversation to import with its messages.
#[derive(Debug, Clone)]
pub struct ImportConversation {
    /// The owner.
    pub user_id: UserId,
    /// The title.
    pub title: Option<String>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// The messages, oldest first; the conversation's `updated_at` is the last one's time.
    pub messages: Vec<ImportMessage>,
}

/// A message to import.
#[derive(Debug, Clone)]
pub struct ImportMessage {
    /// Its author.
    pub role: Role,
    /// Its text.
    pub content: String,
    /// When it was written.
    pub created_at: OffsetDateTime,
}

/// Inserts `users` in one transaction and returns their ids, in input order.
///
/// # Errors
/// Any database error; nothing is inserted then.
pub async fn import_users(
    connection: &DatabaseConnection,
    users: &[NewUser],
) -> Result<Vec<UserId>, RepositoryError> {
    let transaction = connection.begin().await.map_err(repository_error)?;
    let now = to_db(lia_domain::clock::now_utc());
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk.iter().map(|new_user| user::ActiveModel {
            email: Set(new_user.email.as_str().to_owned()),
            username: Set(new_user.username.as_str().to_owned()),
            hashed_password: Set(new_user.password_hash.0.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        user::Entity::insert_many(rows)
            .exec(&transaction)
            .await
            .map_err(repository_error)?;
    }
    let emails: Vec<&str> = users.iter().map(|u| u.email.as_str()).collect();
    let mut ids = Vec::with_capacity(users.len());
    for chunk in emails.chunks(ROWS_PER_STATEMENT) {
        let found: Vec<(i32, String)> = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Email])
            .filter(user::Column::Email.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&transaction)
            .await
            .map_err(repository_error)?;
        let by_email: std::collections::HashMap<String, i32> =
            found.into_iter().map(|(id, email)| (email, id)).collect();
        ids.extend(
            chunk
                .iter()
                .filter_map(|email| by_email.get(*email).map(|id| UserId(*id))),
        );
    }
    transaction.commit().await.map_err(repository_error)?;
    Ok(ids)
}

/// Inserts `conversations` with all their messages in one transaction; returns their new ids,
/// in input order.
///
/// # Errors
/// Any database error; nothing is inserted then.
pub async fn import_conversations(
    connection: &DatabaseConnection,
    conversations: Vec<ImportConversation>,
) -> Result<Vec<ConversationId>, RepositoryError> {
    let transaction = connection.begin().await.map_err(repository_error)?;
    let mut ids = Vec::with_capacity(conversations.len());
    let mut conversation_rows = Vec::with_capacity(conversations.len());
    let mut message_rows = Vec::new();
    for imported in conversations {
        let id = ConversationId::new_v7().0;
        ids.push(ConversationId(id));
        let updated_at = imported
            .messages
            .last()
            .map_or(imported.created_at, |m| m.created_at);
        conversation_rows.push(conversation::ActiveModel {
            id: Set(id),
            user_id: Set(imported.user_id.0),
            title: Set(imported.title),
            sentiment_state: Set(None),
            created_at: Set(to_db(imported.created_at)),
            updated_at: Set(to_db(updated_at)),
        });
        message_rows.extend(imported.messages.into_iter().map(|m| message::ActiveModel {
            conversation_id: Set(id),
            role: Set(m.role.as_str().to_owned()),
            content: Set(m.content),
            sentiment_data: Set(None),
            model_info: Set(None),
            created_at: Set(to_db(m.created_at)),
            ..Default::default()
        }));
    }
    insert_chunked::<conversation::Entity, _>(&transaction, conversation_rows).await?;
    insert_chunked::<message::Entity, _>(&transaction, message_rows).await?;
    transaction.commit().await.map_err(repository_error)?;
    Ok(ids)
}

async fn insert_chunked<E, A>(
    transaction: &sea_orm::DatabaseTransaction,
    rows: Vec<A>,
) -> Result<(), RepositoryError>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        E::insert_many(chunk)
            .exec_without_returning(transaction)
            .await
            .map_err(repository_error)?;
    }
    Ok(())
}
