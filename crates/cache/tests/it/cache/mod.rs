//! The conversation caches' shared suite, run on every backend: one module per port.

use lia_domain::ports::{Cached, FillToken};

mod detail;
mod history;

pub(super) async fn miss_token<T: std::fmt::Debug>(read: Cached<T>) -> FillToken {
    match read {
        Cached::Miss(token) => token,
        other => panic!("expected a miss, got {other:?}"),
    }
}
