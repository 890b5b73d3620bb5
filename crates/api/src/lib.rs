#![doc = include_str!("../README.md")]

mod error;
pub mod extract;
pub mod health;
pub mod metrics;
mod middleware;
mod normalize;
pub mod openapi;
pub mod routes;
pub mod state;
mod telemetry;
mod wire;

pub use error::ApiError;
pub use extract::TrustedProxies;
pub use health::Probe;
pub use metrics::Metrics;
pub use middleware::{app, operations_app};
pub use state::{ApiSettings, ApiState, CookieSettings, Draining, StaticAnswers};
pub use wire::{encode_detail, encode_history, encode_history_row};
