//! The `active_turns` table: one row per chat turn generating.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "active_turns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub stream_id: String,
    pub user_id: i32,
    pub conversation_id: Uuid,
    pub user_message_id: i32,
    pub provider: String,
    pub model: String,
    #[sea_orm(column_type = "Json")]
    pub request: Json,
    pub started_at: TimeDateTimeWithTimeZone,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
