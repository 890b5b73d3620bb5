//! Integration tests of the adapters over real HTTP against a fake upstream in this process,
//! and of the retry policy with tokio's paused clock.
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod fallback;
#[cfg(test)]
mod gemini;
#[cfg(test)]
mod openai;
#[cfg(test)]
mod retries;
#[cfg(test)]
mod scripted;
#[cfg(test)]
mod telemetry;
