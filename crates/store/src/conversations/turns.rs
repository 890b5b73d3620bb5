//! The chat turn's two transactions: storing the user's message before generation starts, and
//! storing the reply with the sentiment afterwards.
//!
//! Each transaction writes first (an `UPDATE` of the conversation), so on SQLite it takes the
//! write lock at once instead of upgrading a read lock, which would fail under concurrency.

use lia_domain::clock::now_utc;
use lia_domain::ports::{FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{ConversationId, MessageId, RepositoryError, Role, Title};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use time::OffsetDateTime;

use crate::entities::{conversation, message};
use crate::error::repository_error;
use crate::mapping::{conversation_from_row, to_json};
use crate::timestamps::{after, to_db};

#[derive(Debug, FromQueryResult)]
struct MessageStats {
    n_messages: i64,
    latest: Option<OffsetDateTime>,
}

pub(super) async fn start(
    connection: &DatabaseConnection,
    turn: NewTurn,
) -> Result<StartedTurn, RepositoryError> {
    let transaction = connection.begin().await.map_err(repository_error)?;
    let now = to_db(now_utc());
    let (mut row, created) = match turn.conversation_id {
        Some(id) => (
            touch_owned(&transaction, turn.user_id.0, id, now).await?,
            false,
        ),
        None => {
            let row = conversation::ActiveModel {
                id: Set(ConversationId::new_v7().0),
                user_id: Set(turn.user_id.0),
                title: Set(None),
                sentiment_state: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&transaction)
            .await
            .map_err(repository_error)?;
            (row, true)
        }
    };
    let stats = message_stats(&transaction, row.id).await?;
    let created_at = to_db(after(stats.latest));
    let user_message = message::ActiveModel {
        conversation_id: Set(row.id),
        role: Set(Role::User.as_str().to_owned()),
        content: Set(turn.content.as_str().to_owned()),
        sentiment_data: Set(None),
        model_info: Set(None),
        created_at: Set(created_at),
        ..Default::default()
    }
    .insert(&transaction)
    .await
    .map_err(repository_error)?;

    let new_title = (row.title.is_none() && stats.n_messages == 0)
        .then(|| Title::from_first_message(turn.content.as_str()))
        .flatten();
    if new_title.is_some() || row.updated_at != created_at {
        let mut update = conversation::Entity::update_many()
            .col_expr(conversation::Column::UpdatedAt, Expr::val(created_at))
            .filter(conversation::Column::Id.eq(row.id));
        if let Some(title) = &new_title {
            update = update.col_expr(conversation::Column::Title, Expr::val(title.as_str()));
        }
        update.exec(&transaction).await.map_err(repository_error)?;
        row.updated_at = created_at;
        if let Some(title) = new_title {
            row.title = Some(title.as_str().to_owned());
        }
    }
    transaction.commit().await.map_err(repository_error)?;
    Ok(StartedTurn {
        conversation: conversation_from_row(row)?,
        created,
        user_message_id: MessageId(user_message.id),
        previous_messages: u64::try_from(stats.n_messages).unwrap_or(0),
    })
}

pub(super) async fn finish(
    connection: &DatabaseConnection,
    turn: FinishedTurn,
) -> Result<MessageId, RepositoryError> {
    let transaction = connection.begin().await.map_err(repository_error)?;
    let now = to_db(now_utc());
    let mut update = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(turn.conversation_id.0))
        .filter(conversation::Column::UserId.eq(turn.user_id.0));
    if let Some(state) = &turn.sentiment_state {
        update = update.col_expr(
            conversation::Column::SentimentState,
            Expr::val(to_json("sentiment_state", state)?),
        );
    }
    if update
        .exec(&transaction)
        .await
        .map_err(repository_error)?
        .rows_affected
        == 0
    {
        return Err(RepositoryError::NotFound);
    }
    let stats = message_stats(&transaction, turn.conversation_id.0).await?;
    let assistant = message::ActiveModel {
        conversation_id: Set(turn.conversation_id.0),
        role: Set(Role::Assistant.as_str().to_owned()),
        content: Set(turn.reply),
        sentiment_data: Set(None),
        model_info: Set(Some(to_json("model_info", &turn.model_info)?)),
        created_at: Set(to_db(after(stats.latest))),
        ..Default::default()
    }
    .insert(&transaction)
    .await
    .map_err(repository_error)?;
    if let Some(sentiment) = &turn.user_sentiment {
        message::Entity::update_many()
            .col_expr(
                message::Column::SentimentData,
                Expr::val(to_json("sentiment_data", sentiment)?),
            )
            .filter(message::Column::Id.eq(turn.user_message_id.0))
            .filter(message::Column::ConversationId.eq(turn.conversation_id.0))
            .exec(&transaction)
            .await
            .map_err(repository_error)?;
    }
    transaction.commit().await.map_err(repository_error)?;
    Ok(MessageId(assistant.id))
}

/// Bumps `updated_at` of the owner's conversation and returns it; not found when the
/// conversation is missing or someone else's.
async fn touch_owned(
    connection: &impl ConnectionTrait,
    user_id: i32,
    id: ConversationId,
    now: OffsetDateTime,
) -> Result<conversation::Model, RepositoryError> {
    let mut rows = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(id.0))
        .filter(conversation::Column::UserId.eq(user_id))
        .exec_with_returning(connection)
        .await
        .map_err(repository_error)?;
    rows.pop().ok_or(RepositoryError::NotFound)
}

async fn message_stats(
    connection: &impl ConnectionTrait,
    conversation_id: uuid::Uuid,
) -> Result<MessageStats, RepositoryError> {
    let stats = message::Entity::find()
        .select_only()
        .expr_as(Expr::col(message::Column::Id).count(), "n_messages")
        .expr_as(Expr::col(message::Column::CreatedAt).max(), "latest")
        .filter(message::Column::ConversationId.eq(conversation_id))
        .into_model::<MessageStats>()
        .one(connection)
        .await
        .map_err(repository_error)?;
    Ok(stats.unwrap_or(MessageStats {
        n_messages: 0,
        latest: None,
    }))
}
