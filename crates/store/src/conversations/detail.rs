//! Conversation detail: the conversation, one window of messages and the total, in two round
//! trips.

use lia_domain::{
    ConversationId, ConversationPage, MessageAnchor, MessageId, MessageWindow, RepositoryError,
    UserId,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use time::OffsetDateTime;

use super::sub_query;
use crate::entities::{conversation, message};
use crate::error::repository_error;
use crate::mapping::{conversation_from_row, message_from_row};
use crate::timestamps::to_db;

/// The first round trip: the conversation (owner checked), its message count and, for keyset
/// windows, the anchor message's timestamp (null when the anchor is not in this conversation).
#[derive(Debug, FromQueryResult)]
struct HeadRow {
    id: uuid::Uuid,
    user_id: i32,
    title: Option<String>,
    sentiment_state: Option<serde_json::Value>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    total_messages: i64,
    anchor_created_at: Option<OffsetDateTime>,
}

pub(super) async fn load(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    id: ConversationId,
    window: MessageWindow,
) -> Result<ConversationPage, RepositoryError> {
    let anchor_id = match window.anchor() {
        MessageAnchor::Before(anchor) | MessageAnchor::After(anchor) => Some(anchor),
        MessageAnchor::FromNewest { .. } => None,
    };
    let head = load_head(connection, user_id, id, anchor_id).await?;
    let total_messages = u64::try_from(head.total_messages).unwrap_or(0);
    let limit = window.limit();

    let (rows, has_more) = match window.anchor() {
        MessageAnchor::FromNewest { offset } => {
            let rows = newest_first(id)
                .limit(limit)
                .offset(offset)
                .all(connection)
                .await
                .map_err(repository_error)?;
            let has_more = offset + (rows.len() as u64) < total_messages;
            (rows.into_iter().rev().collect::<Vec<_>>(), has_more)
        }
        MessageAnchor::Before(anchor) | MessageAnchor::After(anchor) => {
            let Some(anchor_created_at) = head.anchor_created_at else {
                // A cursor from another conversation selects nothing.
                let conversation = conversation_from_row(head.into_model())?;
                return Ok(ConversationPage {
                    conversation,
                    messages: Vec::new(),
                    total_messages,
                    has_more: false,
                });
            };
            let older = matches!(window.anchor(), MessageAnchor::Before(_));
            keyset_page(connection, id, (anchor_created_at, anchor), older, limit).await?
        }
    };
    let conversation = conversation_from_row(head.into_model())?;
    let messages = rows
        .into_iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ConversationPage {
        conversation,
        messages,
        total_messages,
        has_more,
    })
}

async fn load_head(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    id: ConversationId,
    anchor: Option<MessageId>,
) -> Result<HeadRow, RepositoryError> {
    let message_column = |column: message::Column| Expr::col((message::Entity, column));
    let belongs_here = message_column(message::Column::ConversationId)
        .equals((conversation::Entity, conversation::Column::Id));
    let total = Query::select()
        .expr(message_column(message::Column::Id).count())
        .from(message::Entity)
        .and_where(belongs_here.clone())
        .to_owned();
    let anchor_created_at = Query::select()
        .expr(message_column(message::Column::CreatedAt))
        .from(message::Entity)
        .and_where(belongs_here)
        .and_where(message_column(message::Column::Id).eq(anchor.map_or(0, |anchor| anchor.0)))
        .to_owned();
    conversation::Entity::find()
        .expr_as(sub_query(total), "total_messages")
        .expr_as(sub_query(anchor_created_at), "anchor_created_at")
        .filter(conversation::Column::Id.eq(id.0))
        .filter(conversation::Column::UserId.eq(user_id.0))
        .into_model::<HeadRow>()
        .one(connection)
        .await
        .map_err(repository_error)?
        .ok_or(RepositoryError::NotFound)
}

/// The `limit` messages strictly older (or newer) than the anchor in (`created_at`, `id`)
/// order, oldest first, and whether more lie beyond them. One extra row is fetched to tell.
async fn keyset_page(
    connection: &impl ConnectionTrait,
    id: ConversationId,
    (anchor_created_at, anchor_id): (OffsetDateTime, MessageId),
    older: bool,
    limit: u64,
) -> Result<(Vec<message::Model>, bool), RepositoryError> {
    let key = Expr::tuple([
        Expr::col((message::Entity, message::Column::CreatedAt)),
        Expr::col((message::Entity, message::Column::Id)),
    ]);
    let anchor_key = Expr::tuple([Expr::val(to_db(anchor_created_at)), Expr::val(anchor_id.0)]);
    let query = if older {
        newest_first(id).filter(key.lt(anchor_key))
    } else {
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(id.0))
            .filter(key.gt(anchor_key))
            .order_by_asc(message::Column::CreatedAt)
            .order_by_asc(message::Column::Id)
    };
    let mut rows = query
        .limit(limit + 1)
        .all(connection)
        .await
        .map_err(repository_error)?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if older {
        rows.reverse();
    }
    Ok((rows, has_more))
}

fn newest_first(id: ConversationId) -> sea_orm::Select<message::Entity> {
    message::Entity::find()
        .filter(message::Column::ConversationId.eq(id.0))
        .order_by_desc(message::Column::CreatedAt)
        .order_by_desc(message::Column::Id)
}

impl HeadRow {
    fn into_model(self) -> conversation::Model {
        conversation::Model {
            id: self.id,
            user_id: self.user_id,
            title: self.title,
            sentiment_state: self.sentiment_state,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}
