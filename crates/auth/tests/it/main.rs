//! Tests of the account service over a real user table (SQLite in a temporary directory):
//! registration, sign-in, the legacy hash upgrade and token checks.
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod accounts;
