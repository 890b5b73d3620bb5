//! [`UsageRepository`] over sea-orm, and the ledger write that `finish_turn` makes in its
//! transaction.

use async_trait::async_trait;
use lia_domain::ports::{UsageRepository, UsageRow};
use lia_domain::{RepositoryError, TokenUsage, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::Date;
use time::macros::format_description;

use crate::database::Database;
use crate::entities::{usage_daily, user_quota};
use crate::error::{corrupt, repository_error};

/// The usage ledger in `usage_daily`, and budgets in `user_quotas`.
#[derive(Debug, Clone)]
pub struct SqlUsageRepository {
    database: Database,
}

impl SqlUsageRepository {
    /// A repository over `database` (cheap clones of its pools).
    #[must_use]
    pub fn new(database: Database) -> Self {
        Self { database }
    }
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

fn day_key(day: Date) -> Result<String, RepositoryError> {
    day.format(DAY).map_err(|e| corrupt("usage_daily.day", e))
}

fn tokens(value: u32) -> i64 {
    i64::from(value)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Adds `usage` to the ledger row of its user, day, provider and model; `replies` is 1 for
/// a reply and 0 for another call made for it (LLM sentiment).
pub(crate) async fn charge(
    connection: &impl ConnectionTrait,
    user_id: UserId,
    day: Date,
    target: (&str, &str),
    usage: &TokenUsage,
    replies: i64,
) -> Result<(), RepositoryError> {
    let (provider, model) = target;
    use usage_daily::Column;
    let row = usage_daily::ActiveModel {
        user_id: Set(user_id.0),
        day: Set(day_key(day)?),
        provider: Set(provider.to_owned()),
        model: Set(model.to_owned()),
        prompt_tokens: Set(tokens(usage.prompt_tokens)),
        completion_tokens: Set(tokens(usage.completion_tokens)),
        reasoning_tokens: Set(tokens(usage.reasoning_tokens.unwrap_or(0))),
        turns: Set(replies),
    };
    let add = |column: Column| {
        (
            column,
            Expr::col((usage_daily::Entity, column)).add(Expr::cust(format!(
                "excluded.{}",
                sea_orm::Iden::to_string(&column)
            ))),
        )
    };
    let on_conflict =
        OnConflict::columns([Column::UserId, Column::Day, Column::Provider, Column::Model])
            .values([
                add(Column::PromptTokens),
                add(Column::CompletionTokens),
                add(Column::ReasoningTokens),
                add(Column::Turns),
            ])
            .to_owned();
    usage_daily::Entity::insert(row)
        .on_conflict(on_conflict)
        .exec_without_returning(connection)
        .await
        .map_err(repository_error)?;
    Ok(())
}

#[async_trait]
impl UsageRepository for SqlUsageRepository {
    #[tracing::instrument(skip_all)]
    async fn usage(
        &self,
        user_id: UserId,
        from: Date,
        to: Date,
    ) -> Result<Vec<UsageRow>, RepositoryError> {
        use usage_daily::Column;
        let session = self.database.read_session().await?;
        let rows = usage_daily::Entity::find()
            .filter(Column::UserId.eq(user_id.0))
            .filter(Column::Day.between(day_key(from)?, day_key(to)?))
            .order_by_asc(Column::Day)
            .order_by_asc(Column::Provider)
            .order_by_asc(Column::Model)
            .all(&session)
            .await
            .map_err(repository_error);
        session
            .end(rows)
            .await?
            .into_iter()
            .map(|row| {
                Ok(UsageRow {
                    day: Date::parse(&row.day, DAY).map_err(|e| corrupt("usage_daily.day", e))?,
                    provider: row.provider,
                    model: row.model,
                    prompt_tokens: count(row.prompt_tokens),
                    completion_tokens: count(row.completion_tokens),
                    reasoning_tokens: count(row.reasoning_tokens),
                    turns: count(row.turns),
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn tokens_spent(&self, user_id: UserId, day: Date) -> Result<u64, RepositoryError> {
        use usage_daily::Column;
        let session = self.database.read_session().await?;
        let spent: Result<Option<Option<i64>>, _> = usage_daily::Entity::find()
            .select_only()
            .expr(
                Expr::col(Column::PromptTokens)
                    .add(Expr::col(Column::CompletionTokens))
                    .sum()
                    .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
            )
            .filter(Column::UserId.eq(user_id.0))
            .filter(Column::Day.eq(day_key(day)?))
            .into_tuple()
            .one(&session)
            .await
            .map_err(repository_error);
        Ok(session.end(spent).await?.flatten().map_or(0, count))
    }

    #[tracing::instrument(skip_all)]
    async fn quota_override(&self, user_id: UserId) -> Result<Option<u64>, RepositoryError> {
        let session = self.database.read_session().await?;
        let row = user_quota::Entity::find_by_id(user_id.0)
            .one(&session)
            .await
            .map_err(repository_error);
        Ok(session.end(row).await?.map(|row| count(row.daily_tokens)))
    }

    #[tracing::instrument(skip_all)]
    async fn set_quota_override(
        &self,
        user_id: UserId,
        daily_tokens: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let session = self.database.write_session().await?;
        let connection = &session;
        let outcome = match daily_tokens {
            None => user_quota::Entity::delete_by_id(user_id.0)
                .exec(connection)
                .await
                .map(drop),
            Some(tokens) => {
                let row = user_quota::ActiveModel {
                    user_id: Set(user_id.0),
                    daily_tokens: Set(i64::try_from(tokens).unwrap_or(i64::MAX)),
                };
                user_quota::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(user_quota::Column::UserId)
                            .update_column(user_quota::Column::DailyTokens)
                            .to_owned(),
                    )
                    .exec_without_returning(connection)
                    .await
                    .map(drop)
            }
        };
        session.end(outcome.map_err(repository_error)).await
    }
}
