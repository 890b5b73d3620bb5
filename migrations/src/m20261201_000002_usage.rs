//! Token usage and quotas:
//!
//! - `usage_daily`: tokens per user, UTC day, provider and model, added to in the transaction
//!   that stores each reply. It is what `GET /api/v1/usage` reports and what daily quotas are
//!   checked against: durable (never lost on restart) and shared by every instance.
//! - `user_quotas`: a per-user daily token budget overriding the configured default.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum UsageDaily {
    Table,
    UserId,
    Day,
    Provider,
    Model,
    PromptTokens,
    CompletionTokens,
    ReasoningTokens,
    Turns,
}

#[derive(DeriveIden)]
enum UserQuotas {
    Table,
    UserId,
    DailyTokens,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

fn user_foreign_key(name: &str, from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tokens = |column: UsageDaily| {
            ColumnDef::new(column)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(UsageDaily::Table)
                    .col(ColumnDef::new(UsageDaily::UserId).integer().not_null())
                    // `YYYY-MM-DD` (UTC): sorts as it reads, on every backend.
                    .col(ColumnDef::new(UsageDaily::Day).string_len(10).not_null())
                    .col(
                        ColumnDef::new(UsageDaily::Provider)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UsageDaily::Model).string_len(200).not_null())
                    .col(tokens(UsageDaily::PromptTokens))
                    .col(tokens(UsageDaily::CompletionTokens))
                    .col(tokens(UsageDaily::ReasoningTokens))
                    .col(tokens(UsageDaily::Turns))
                    .primary_key(
                        Index::create()
                            .col(UsageDaily::UserId)
                            .col(UsageDaily::Day)
                            .col(UsageDaily::Provider)
                            .col(UsageDaily::Model),
                    )
                    .foreign_key(&mut user_foreign_key(
                        "usage_daily_user_id_fkey",
                        (UsageDaily::Table, UsageDaily::UserId),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserQuotas::Table)
                    .col(
                        ColumnDef::new(UserQuotas::UserId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UserQuotas::DailyTokens)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(&mut user_foreign_key(
                        "user_quotas_user_id_fkey",
                        (UserQuotas::Table, UserQuotas::UserId),
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [UserQuotas::Table.into_iden(), UsageDaily::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
