//! Integration tests of the repositories against real databases: SQLite always, and
//! PostgreSQL too when `LIA_TEST_DATABASE_URL` points at a server (each test gets its own
//! database there, so tests run in parallel).
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod changes;
#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod detail;
#[cfg(test)]
mod history;
#[cfg(test)]
mod legacy;
#[cfg(test)]
mod migrations;
#[cfg(test)]
mod support;
#[cfg(test)]
mod turns;
#[cfg(test)]
mod usage;
#[cfg(test)]
mod users;
