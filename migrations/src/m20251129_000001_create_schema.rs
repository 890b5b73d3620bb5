//! Users, conversations and messages, as the reference's Alembic head `007` laid them out
//! (same names, types and cascades), plus the keyset paging index.

use sea_orm_migration::prelude::*;

use crate::legacy::{LegacySchema, detect_legacy_schema, upgrade_reference_schema};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Username,
    HashedPassword,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    UserId,
    Title,
    SentimentState,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    Role,
    Content,
    SentimentData,
    ModelInfo,
    CreatedAt,
}

const MESSAGE_PAGING_INDEX: &str = "ix_messages_conversation_created_id";
const HISTORY_INDEX: &str = "ix_conversations_user_updated_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match detect_legacy_schema(manager).await? {
            LegacySchema::Empty => create_schema(manager).await,
            LegacySchema::Reference => upgrade_reference_schema(manager).await,
            LegacySchema::UnsupportedRevision(revision) => Err(DbErr::Migration(format!(
                "this database holds the Python service's schema at Alembic revision {revision}; \
                 upgrade it to revision 007 with the Python service first"
            ))),
            LegacySchema::Unknown => Err(DbErr::Migration(
                "a `users` table exists without migration records; refusing to guess its schema"
                    .to_owned(),
            )),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_table("alembic_version").await? {
            // An adopted database: undo only what `up` added, never the reference's data.
            return manager
                .drop_index(
                    Index::drop()
                        .name(MESSAGE_PAGING_INDEX)
                        .table(Messages::Table)
                        .to_owned(),
                )
                .await;
        }
        for table in [
            Messages::Table.into_iden(),
            Conversations::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn create_schema(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(Users::Table)
                .col(
                    ColumnDef::new(Users::Id)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Users::Email).string_len(255).not_null())
                .col(ColumnDef::new(Users::Username).string_len(100).not_null())
                .col(
                    ColumnDef::new(Users::HashedPassword)
                        .string_len(255)
                        .not_null(),
                )
                .col(timestamp(Users::CreatedAt))
                .col(timestamp(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;
    for (name, column) in [
        ("ix_users_email", Users::Email),
        ("ix_users_username", Users::Username),
    ] {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(Users::Table)
                    .col(column)
                    .unique()
                    .to_owned(),
            )
            .await?;
    }

    manager
        .create_table(
            Table::create()
                .table(Conversations::Table)
                .col(
                    ColumnDef::new(Conversations::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Conversations::UserId).integer().not_null())
                .col(ColumnDef::new(Conversations::Title).string_len(255).null())
                .col(ColumnDef::new(Conversations::SentimentState).json().null())
                .col(timestamp(Conversations::CreatedAt))
                .col(timestamp(Conversations::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("conversations_user_id_fkey")
                        .from(Conversations::Table, Conversations::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_conversations_user_created")
                .table(Conversations::Table)
                .col(Conversations::UserId)
                .col(Conversations::CreatedAt)
                .to_owned(),
        )
        .await?;

    manager
        .create_table(
            Table::create()
                .table(Messages::Table)
                .col(
                    ColumnDef::new(Messages::Id)
                        .integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Messages::ConversationId).uuid().not_null())
                .col(ColumnDef::new(Messages::Role).string_len(20).not_null())
                .col(ColumnDef::new(Messages::Content).text().not_null())
                .col(ColumnDef::new(Messages::SentimentData).json().null())
                .col(ColumnDef::new(Messages::ModelInfo).json().null())
                .col(timestamp(Messages::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("messages_conversation_id_fkey")
                        .from(Messages::Table, Messages::ConversationId)
                        .to(Conversations::Table, Conversations::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    create_paging_indexes(manager).await
}

/// (user, updated_at, id) serves the history page in order, so a page stops after `limit`
/// rows instead of sorting all of a user's conversations; (conversation, created_at, id)
/// serves detail paging by offset and by keyset cursor, and every lookup by conversation.
pub(crate) async fn create_paging_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(HISTORY_INDEX)
                .table(Conversations::Table)
                .col(Conversations::UserId)
                .col(Conversations::UpdatedAt)
                .col(Conversations::Id)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
    create_message_paging_index(manager).await
}

/// (conversation, created_at, id): serves detail paging by offset and by keyset cursor, and
/// every lookup by conversation.
async fn create_message_paging_index(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(MESSAGE_PAGING_INDEX)
                .table(Messages::Table)
                .col(Messages::ConversationId)
                .col(Messages::CreatedAt)
                .col(Messages::Id)
                .if_not_exists()
                .to_owned(),
        )
        .await
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .default(Expr::current_timestamp())
        .to_owned()
}
