//! Lia's server as a library, so the black-box tests can start it on a random port: settings,
//! telemetry and the composition root. `main.rs` only reads the environment and runs it.

pub mod config_reference;
pub mod errors;
mod metrics;
mod probes;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use errors::StartupError;
pub use settings::{Settings, SettingsError};
pub use startup::{Application, Stopped};
