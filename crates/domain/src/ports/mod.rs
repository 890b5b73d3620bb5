//! Ports: the traits the application needs from the outside world. `lia-store` implements the
//! repositories, `lia-cache` the cache, rate limiter and stream buffer. All are object safe
//! (`Arc<dyn Port>` is how they are wired) and speak only domain types.

mod cache;
mod rate_limit;
mod repositories;
mod stream_buffer;
mod turn_leases;
mod usage;

pub use cache::{
    Cached, ConversationCache, DetailCache, FillToken, HistoryCache, HistoryRow, SharedHistory,
    SharedPage,
};
pub use rate_limit::{RateLimitDecision, RateLimitError, RateLimitScope, RateLimiter};
pub use repositories::{
    ActiveTurn, ConversationRepository, Cumulate, FinishOutcome, FinishedTurn, NewTurn,
    StartedTurn, StoredReply, UsageCharge, UserRepository,
};
pub use stream_buffer::{
    BufferedEvent, EventStream, StopRequests, StoredStream, StreamBuffer, StreamBufferError,
};
pub use turn_leases::{Lease, LeaseError, TurnLeases};
pub use usage::{UsageRepository, UsageRow};
