//! Logging: human-readable by default, JSON lines by configuration; the filter comes from
//! `RUST_LOG` when set, else from the configured level.

use tracing_subscriber::EnvFilter;

use crate::settings::AppSettings;

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(settings: &AppSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let result = if settings.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // An error only means a subscriber is already installed (tests start several apps).
    drop(result);
}
