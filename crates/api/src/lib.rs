#![doc = include_str!("../README.md")]

mod error;
pub mod extract;
pub mod health;
mod middleware;
pub mod routes;
pub mod state;
mod wire;

pub use error::ApiError;
pub use health::Probe;
pub use middleware::app;
pub use state::{ApiSettings, ApiState, CookieSettings, StaticAnswers};
