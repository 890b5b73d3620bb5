//! The chat turn's two transactions, on the write path.
//!
//! `start` stores the user message and records the active turn, and reads the context in
//! the same transaction, after taking the conversation's lock: the prompt is the
//! conversation as it stood when this message was stored, whatever other turns do.
//!
//! `finish` first deletes the turn's record, which claims it: a turn recovered elsewhere, or
//! a retry of a commit that did happen, finds nothing to claim and stores nothing. It then
//! reads the conversation's sentiment state under the row lock and applies the cumulative
//! update to that state, so overlapping turns never lose one another's update.
//!
//! Each transaction writes first, so on SQLite it holds the write lock from its start
//! instead of upgrading a read lock.

use lia_domain::clock::now_utc;
use lia_domain::ports::{ActiveTurn, FinishOutcome, FinishedTurn, NewTurn, StartedTurn};
use lia_domain::{
    ContextMessage, ConversationId, MessageId, MessageSentiment, RepositoryError, Role, Title,
};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use time::OffsetDateTime;

use super::sub_query;
use crate::database::Database;
use crate::entities::{active_turn, conversation, message};
use crate::error::{corrupt, repository_error, user_write_error};
use crate::mapping::{conversation_from_row, to_json};
use crate::timestamps::{after_at, from_db, to_db};

pub(super) async fn start(
    database: &Database,
    turn: NewTurn,
) -> Result<StartedTurn, RepositoryError> {
    let transaction = database.begin_writes().await?;
    let now = to_db(now_utc());
    let (mut row, created, recent) = match turn.conversation_id {
        Some(id) => {
            let row = touch_owned(&transaction, turn.user_id.0, id, now).await?;
            // One more than asked, so "no messages yet" is known even with no context.
            let recent = newest(&transaction, row.id, turn.context_limit + 1).await?;
            (row, false, recent)
        }
        None => {
            let title = Title::from_first_message(turn.content.as_str());
            let row = conversation::ActiveModel {
                id: Set(ConversationId::new_v7().0),
                user_id: Set(turn.user_id.0),
                title: Set(title.map(|t| t.as_str().to_owned())),
                sentiment_state: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&transaction)
            .await
            .map_err(user_write_error)?;
            (row, true, Vec::new())
        }
    };
    let created_at = after_at(recent.first().map(|m| m.created_at), now);
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

    let new_title = (!created && row.title.is_none() && recent.is_empty())
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
    active_turn::ActiveModel {
        stream_id: Set(turn.stream_id.clone()),
        user_id: Set(turn.user_id.0),
        conversation_id: Set(row.id),
        user_message_id: Set(user_message.id),
        provider: Set(turn.provider),
        model: Set(turn.model),
        request: Set(
            serde_json::from_str(&turn.request).map_err(|e| RepositoryError::Other(Box::new(e)))?
        ),
        started_at: Set(now),
    }
    .insert(&transaction)
    .await
    .map_err(user_write_error)?;
    transaction.commit().await.map_err(repository_error)?;

    let limit = usize::try_from(turn.context_limit).unwrap_or(usize::MAX);
    let context = recent
        .into_iter()
        .take(limit)
        .rev()
        .map(|m| {
            let role = Role::parse(&m.role).ok_or_else(|| corrupt("role", &m.role))?;
            Ok(ContextMessage {
                role,
                content: m.content,
            })
        })
        .collect::<Result<_, RepositoryError>>()?;
    Ok(StartedTurn {
        conversation: conversation_from_row(row)?,
        created,
        user_message_id: MessageId(user_message.id),
        stream_id: turn.stream_id,
        context,
    })
}

/// The conversation's state and newest message time, read under its row lock.
#[derive(Debug, FromQueryResult)]
struct FinishingRow {
    sentiment_state: Option<serde_json::Value>,
    latest: Option<OffsetDateTime>,
}

pub(super) async fn finish(
    database: &Database,
    turn: FinishedTurn,
) -> Result<FinishOutcome, RepositoryError> {
    let transaction = database.begin_writes().await?;
    let claimed = active_turn::Entity::delete_by_id(turn.stream_id.clone())
        .exec(&transaction)
        .await
        .map_err(repository_error)?
        .rows_affected;
    if claimed == 0 {
        let exists = conversation::Entity::find_by_id(turn.conversation_id.0)
            .filter(conversation::Column::UserId.eq(turn.user_id.0))
            .one(&transaction)
            .await
            .map_err(repository_error)?
            .is_some();
        // Deleting a conversation deletes its turns' records too.
        return if exists {
            Ok(FinishOutcome::AlreadyFinished)
        } else {
            Err(RepositoryError::NotFound)
        };
    }
    let latest = Query::select()
        .expr(Expr::col((message::Entity, message::Column::CreatedAt)).max())
        .from(message::Entity)
        .and_where(
            Expr::col((message::Entity, message::Column::ConversationId))
                .equals((conversation::Entity, conversation::Column::Id)),
        )
        .to_owned();
    let mut select = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::SentimentState)
        .expr_as(sub_query(latest), "latest")
        .filter(conversation::Column::Id.eq(turn.conversation_id.0))
        .filter(conversation::Column::UserId.eq(turn.user_id.0));
    if transaction.get_database_backend() == DbBackend::Postgres {
        // Overlapping turns of one conversation apply their updates one after the other.
        select = select.lock(LockType::Update);
    }
    // `all` rather than `one`: see `newest`.
    let Some(current) = select
        .into_model::<FinishingRow>()
        .all(&transaction)
        .await
        .map_err(repository_error)?
        .pop()
    else {
        return Err(RepositoryError::NotFound);
    };
    let now = to_db(now_utc());

    if let Some(reply) = &turn.reply
        && let Some(usage) = &reply.model_info.usage
    {
        crate::usage::charge(
            &transaction,
            turn.user_id,
            turn.usage_day,
            (&reply.model_info.provider, &reply.model_info.model),
            usage,
            1,
        )
        .await?;
    }
    for charge in &turn.other_usage {
        crate::usage::charge(
            &transaction,
            turn.user_id,
            turn.usage_day,
            (&charge.provider, &charge.model),
            &charge.usage,
            0,
        )
        .await?;
    }
    let reply_id = match &turn.reply {
        Some(reply) => Some(
            message::ActiveModel {
                conversation_id: Set(turn.conversation_id.0),
                role: Set(Role::Assistant.as_str().to_owned()),
                content: Set(reply.text.clone()),
                sentiment_data: Set(None),
                model_info: Set(Some(to_json("model_info", &reply.model_info)?)),
                created_at: Set(after_at(current.latest, now)),
                ..Default::default()
            }
            .insert(&transaction)
            .await
            .map_err(repository_error)?
            .id,
        ),
        None => None,
    };

    let mut update = conversation::Entity::update_many()
        .col_expr(conversation::Column::UpdatedAt, Expr::val(now))
        .filter(conversation::Column::Id.eq(turn.conversation_id.0));
    let mut cumulative = None;
    if let Some(message_result) = turn.message_sentiment {
        let stored = current
            .sentiment_state
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| corrupt("sentiment_state", e))?;
        let (state, result) = (turn.cumulate)(stored.as_ref());
        let sentiment = MessageSentiment {
            message: Some(message_result),
            cumulative: Some(result.clone()),
        };
        message::Entity::update_many()
            .col_expr(
                message::Column::SentimentData,
                Expr::val(to_json("sentiment_data", &sentiment)?),
            )
            .filter(message::Column::Id.eq(turn.user_message_id.0))
            .exec(&transaction)
            .await
            .map_err(repository_error)?;
        update = update.col_expr(
            conversation::Column::SentimentState,
            Expr::val(to_json("sentiment_state", &state)?),
        );
        cumulative = Some(result);
    }
    update.exec(&transaction).await.map_err(repository_error)?;
    transaction.commit().await.map_err(repository_error)?;
    Ok(FinishOutcome::Stored {
        reply_id: reply_id.map(MessageId),
        cumulative,
    })
}

pub(super) async fn active_turns(
    connection: &impl ConnectionTrait,
    stream_id: Option<&str>,
) -> Result<Vec<ActiveTurn>, RepositoryError> {
    let mut select = active_turn::Entity::find().order_by_asc(active_turn::Column::StartedAt);
    if let Some(stream_id) = stream_id {
        select = select.filter(active_turn::Column::StreamId.eq(stream_id));
    }
    let rows = select.all(connection).await.map_err(repository_error)?;
    Ok(rows
        .into_iter()
        .map(|row| ActiveTurn {
            stream_id: row.stream_id,
            user_id: lia_domain::UserId(row.user_id),
            conversation_id: ConversationId(row.conversation_id),
            user_message_id: MessageId(row.user_message_id),
            provider: row.provider,
            model: row.model,
            request: row.request.to_string(),
            started_at: from_db(row.started_at),
        })
        .collect())
}

/// Bumps `updated_at` of the owner's conversation and returns it; not found when the
/// conversation is missing or someone else's. The update takes the row's lock (the write
/// lock on SQLite) for the rest of the transaction.
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

/// A message as context: only what the prompt and the ordering need.
#[derive(Debug, FromQueryResult)]
struct RecentRow {
    role: String,
    content: String,
    created_at: OffsetDateTime,
}

/// The newest `limit` messages of a conversation, newest first.
///
/// The limit is written into the SQL rather than bound: SQLite prepares a statement with a
/// bound `LIMIT` again on every execution (its planner inspects the value), and this runs on
/// every turn. `limit` is a number from configuration, never user input.
async fn newest(
    connection: &impl ConnectionTrait,
    conversation_id: uuid::Uuid,
    limit: u64,
) -> Result<Vec<RecentRow>, RepositoryError> {
    let backend = connection.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "SELECT role, content, created_at FROM messages WHERE conversation_id = {placeholder} \
         ORDER BY created_at DESC, id DESC LIMIT {limit}"
    );
    RecentRow::find_by_statement(Statement::from_sql_and_values(
        backend,
        sql,
        [conversation_id.into()],
    ))
    .all(connection)
    .await
    .map_err(repository_error)
}
