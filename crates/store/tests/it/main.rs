//! Integration tests of the repositories against real databases: SQLite always, and
//! PostgreSQL too when `LIA_TEST_DATABASE_URL` points at a server (each test gets its own
//! database there, so tests run in parallel).

mod changes;
mod concurrency;
mod detail;
mod history;
mod legacy;
mod migrations;
mod support;
mod turns;
mod users;
