//! The history list: one query for a page of conversations with their message counts.

use lia_domain::{ConversationId, ConversationSummary, HistoryPage, RepositoryError, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::sub_query;
use crate::entities::{conversation, message};
use crate::error::repository_error;
use crate::timestamps::from_db;

#[derive(Debug, FromQueryResult)]
struct SummaryRow {
    id: uuid::Uuid,
    title: Option<String>,
    created_at: time::OffsetDateTime,
    updated_at: time::OffsetDateTime,
    message_count: i64,
}

/// `SELECT c.id, c.title, c.created_at, c.updated_at, (SELECT COUNT(*) FROM messages m WHERE
/// m.conversation_id = c.id) FROM conversations c WHERE c.user_id = ? ORDER BY c.updated_at
/// DESC, c.id DESC LIMIT ? OFFSET ?`. The `(user_id, updated_at)` index yields the page in
/// order, and the correlated count is evaluated only for the rows returned, so the cost does
/// not grow with the user's other conversations.
pub(super) async fn load(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    page: HistoryPage,
) -> Result<Vec<ConversationSummary>, RepositoryError> {
    let message_count = Query::select()
        .expr(Expr::col((message::Entity, message::Column::Id)).count())
        .from(message::Entity)
        .and_where(
            Expr::col((message::Entity, message::Column::ConversationId))
                .equals((conversation::Entity, conversation::Column::Id)),
        )
        .to_owned();
    let rows = conversation::Entity::find()
        .select_only()
        .columns([
            conversation::Column::Id,
            conversation::Column::Title,
            conversation::Column::CreatedAt,
            conversation::Column::UpdatedAt,
        ])
        .expr_as(sub_query(message_count), "message_count")
        .filter(conversation::Column::UserId.eq(user_id.0))
        .order_by_desc(conversation::Column::UpdatedAt)
        .order_by_desc(conversation::Column::Id)
        .limit(page.limit())
        .offset(page.offset())
        .into_model::<SummaryRow>()
        .all(connection)
        .await
        .map_err(repository_error)?;
    Ok(rows
        .into_iter()
        .map(|row| ConversationSummary {
            id: ConversationId(row.id),
            title: row.title,
            created_at: from_db(row.created_at),
            updated_at: from_db(row.updated_at),
            message_count: u64::try_from(row.message_count).unwrap_or(0),
        })
        .collect())
}
