//! Black-box tests: the real server on a random port with a fresh database (SQLite always,
//! PostgreSQL too when `LIA_TEST_DATABASE_URL` is set), driven over HTTP.
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod auth;
#[cfg(test)]
mod chat;
#[cfg(test)]
mod chat_failures;
#[cfg(test)]
mod config;
#[cfg(test)]
mod conversations;
#[cfg(test)]
mod correctness;
#[cfg(test)]
mod edge;
#[cfg(test)]
mod fallback;
#[cfg(test)]
mod faults;
#[cfg(test)]
mod helpers;
#[cfg(test)]
mod lifecycle;
#[cfg(test)]
mod observability;
#[cfg(test)]
mod process;
#[cfg(test)]
mod quotas;
#[cfg(test)]
mod security;
#[cfg(test)]
mod two_instances;
#[cfg(test)]
mod usage;
