//! Tests of the HTTP edge on its own: the routes and middleware of [`lia_api::app`] called
//! through `actix_web::test`, over SQLite and the in-process cache (no listener, no server
//! binary; the black-box suite of `lia-server` covers those).
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod routes;
