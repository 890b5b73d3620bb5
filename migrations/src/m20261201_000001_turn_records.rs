//! What a running service needs beyond the reference's data:
//!
//! - `lia_identity`: one row with a random id made when the schema is created. Cache keys
//!   carry it, so a cache (Redis) shared with another database, or kept across a restore or
//!   a `migrate fresh`, never answers for data that is not this database's.
//! - `active_turns`: a row per chat turn that is generating, written in the transaction that
//!   stores the user message and deleted in the one that stores the reply. A turn whose
//!   instance died is found here and recovered exactly once (the delete is the claim).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum LiaIdentity {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ActiveTurns {
    Table,
    StreamId,
    UserId,
    ConversationId,
    UserMessageId,
    Provider,
    Model,
    Request,
    StartedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiaIdentity::Table)
                    .col(
                        ColumnDef::new(LiaIdentity::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LiaIdentity::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .to_owned(),
            )
            .await?;
        let mut identity = Query::insert();
        identity
            .into_table(LiaIdentity::Table)
            .columns([LiaIdentity::Id])
            .values([uuid::Uuid::new_v4().into()])
            .map_err(|error| DbErr::Migration(error.to_string()))?;
        manager.exec_stmt(identity).await?;
        manager
            .create_table(
                Table::create()
                    .table(ActiveTurns::Table)
                    .col(
                        ColumnDef::new(ActiveTurns::StreamId)
                            .string_len(100)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ActiveTurns::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(ActiveTurns::ConversationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActiveTurns::UserMessageId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActiveTurns::Provider)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActiveTurns::Model)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ActiveTurns::Request).json().not_null())
                    .col(
                        ColumnDef::new(ActiveTurns::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("active_turns_user_id_fkey")
                            .from(ActiveTurns::Table, ActiveTurns::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("active_turns_conversation_id_fkey")
                            .from(ActiveTurns::Table, ActiveTurns::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("active_turns_user_message_id_fkey")
                            .from(ActiveTurns::Table, ActiveTurns::UserMessageId)
                            .to(Messages::Table, Messages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ActiveTurns::Table.into_iden(),
            LiaIdentity::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
