//! Owner-scoped changes: delete one, delete all, rename. Each is one statement whose `WHERE`
//! includes the owner, so another user's conversation is untouched and reported as not found.

use lia_domain::clock::now_utc;
use lia_domain::{Conversation, ConversationId, RepositoryError, Title, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::conversation;
use crate::error::repository_error;
use crate::mapping::conversation_from_row;
use crate::timestamps::to_db;

pub(super) async fn delete(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    id: ConversationId,
) -> Result<(), RepositoryError> {
    let result = conversation::Entity::delete_many()
        .filter(conversation::Column::Id.eq(id.0))
        .filter(conversation::Column::UserId.eq(user_id.0))
        .exec(connection)
        .await
        .map_err(repository_error)?;
    if result.rows_affected == 0 {
        return Err(RepositoryError::NotFound);
    }
    Ok(())
}

pub(super) async fn delete_all(
    connection: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<u64, RepositoryError> {
    let result = conversation::Entity::delete_many()
        .filter(conversation::Column::UserId.eq(user_id.0))
        .exec(connection)
        .await
        .map_err(repository_error)?;
    Ok(result.rows_affected)
}

pub(super) async fn rename(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    id: ConversationId,
    title: Title,
) -> Result<Conversation, RepositoryError> {
    let mut rows = conversation::Entity::update_many()
        .col_expr(conversation::Column::Title, Expr::val(title.as_str()))
        .col_expr(conversation::Column::UpdatedAt, Expr::val(to_db(now_utc())))
        .filter(conversation::Column::Id.eq(id.0))
        .filter(conversation::Column::UserId.eq(user_id.0))
        .exec_with_returning(connection)
        .await
        .map_err(repository_error)?;
    rows.pop()
        .map(conversation_from_row)
        .ok_or(RepositoryError::NotFound)?
}
