#![doc = include_str!("../README.md")]

mod connect;
mod conversations;
mod database;
mod entities;
mod error;
mod mapping;
mod session;
mod timestamps;
mod usage;
mod users;

pub mod bulk;
#[cfg(feature = "testing")]
pub mod testing;

pub use connect::{StoreConfig, connect, migrate, pool_usage};
pub use conversations::SqlConversationRepository;
pub use database::Database;
pub use error::StoreError;
pub use sea_orm::DatabaseConnection;
pub use session::Pooler;
pub use usage::SqlUsageRepository;
pub use users::SqlUserRepository;
