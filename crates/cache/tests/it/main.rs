//! One test suite for both backends: always the in-process twins, and Redis too when
//! `LIA_TEST_REDIS_URL` is set (each test under its own key prefix, so tests run in parallel).
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod backends;
#[cfg(test)]
mod cache;
#[cfg(test)]
mod leases;
#[cfg(test)]
mod rate_limit;
#[cfg(test)]
mod stream;
#[cfg(test)]
mod tls;
#[cfg(test)]
mod unreachable;
