//! Recognises a database that the Python reference service already populated, so the first
//! migration adopts it (keeping every user, hash and conversation) instead of failing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

/// The Alembic revision whose schema Lia knows how to adopt.
pub const LEGACY_ALEMBIC_HEAD: &str = "007";

/// What a database holds before Lia's first migration runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacySchema {
    /// No tables of ours or the reference's: create everything.
    Empty,
    /// The reference's schema at [`LEGACY_ALEMBIC_HEAD`]: adopt it.
    Reference,
    /// The reference's schema at another revision: refuse, naming it.
    UnsupportedRevision(String),
    /// Tables named like ours without any Alembic marker: refuse rather than guess.
    Unknown,
}

/// Inspects the database behind `manager`.
///
/// # Errors
/// Any database error while inspecting.
pub async fn detect_legacy_schema(manager: &SchemaManager<'_>) -> Result<LegacySchema, DbErr> {
    let has_users = manager.has_table("users").await?;
    if !manager.has_table("alembic_version").await? {
        return Ok(if has_users {
            LegacySchema::Unknown
        } else {
            LegacySchema::Empty
        });
    }
    let connection = manager.get_connection();
    let row = connection
        .query_one_raw(Statement::from_string(
            manager.get_database_backend(),
            "SELECT version_num FROM alembic_version LIMIT 1",
        ))
        .await?;
    let version: Option<String> = match row {
        Some(row) => Some(row.try_get("", "version_num")?),
        None => None,
    };
    Ok(match version {
        Some(version) if version == LEGACY_ALEMBIC_HEAD && has_users => LegacySchema::Reference,
        Some(version) => LegacySchema::UnsupportedRevision(version),
        None => LegacySchema::UnsupportedRevision("none".to_owned()),
    })
}

/// Brings an adopted reference schema up to what Lia relies on: the paging indexes, and
/// `messages.conversation_id NOT NULL` (left nullable by the reference's legacy 004 path)
/// when no row breaks it.
pub(crate) async fn upgrade_reference_schema(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        let orphans = connection
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM messages WHERE conversation_id IS NULL",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if orphans == 0 {
            connection
                .execute_unprepared(
                    "ALTER TABLE messages ALTER COLUMN conversation_id SET NOT NULL",
                )
                .await?;
        }
    }
    crate::m20251129_000001_create_schema::create_paging_indexes(manager).await
}
