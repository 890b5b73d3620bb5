#![doc = include_str!("../README.md")]

use sea_orm_migration::prelude::*;

mod legacy;
mod m20251129_000001_create_schema;
mod m20261201_000001_turn_records;
mod m20261201_000002_usage;

/// Every migration of Lia's schema, in order. Run it embedded with
/// `Migrator::up(&connection, None)`; no external CLI is needed.
#[derive(Debug, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20251129_000001_create_schema::Migration),
            Box::new(m20261201_000001_turn_records::Migration),
            Box::new(m20261201_000002_usage::Migration),
        ]
    }
}

pub use legacy::{LEGACY_ALEMBIC_HEAD, LegacySchema, detect_legacy_schema};
pub use sea_orm_migration::MigratorTrait;
