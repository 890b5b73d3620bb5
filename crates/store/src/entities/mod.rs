//! sea-orm entities mirroring the schema of `lia-migration` (and of the reference's Alembic
//! head `007`, which it adopts). Private to this crate: callers see domain types only.

#![expect(
    unreachable_pub,
    reason = "sea-orm derives need `pub` items; the module itself is private"
)]

pub(crate) mod active_turn;
pub(crate) mod conversation;
pub(crate) mod identity;
pub(crate) mod message;
pub(crate) mod usage_daily;
pub(crate) mod user;
pub(crate) mod user_quota;
