//! Integration tests of the chat service with real adapters (SQLite, in-process cache and
//! stream buffer, the offline provider).
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod conversations;
#[cfg(test)]
mod model_choice;
#[cfg(test)]
mod stop;
#[cfg(test)]
mod support;
