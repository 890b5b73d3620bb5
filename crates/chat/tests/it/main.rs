//! Integration tests of the chat service with real adapters (SQLite, in-process cache and
//! stream buffer, the offline provider).
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod stop;

#[cfg(test)]
mod conversations;
