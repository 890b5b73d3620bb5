//! Ports: the traits the application needs from the outside world. `lia-store` implements the
//! repositories, `lia-cache` the cache, rate limiter and stream buffer. All are object safe
//! (`Arc<dyn Port>` is how they are wired) and speak only domain types.

mod cache;
mod rate_limit;
mod repositories;
mod stream_buffer;

pub use cache::{Cached, ConversationCache, FillToken};
pub use rate_limit::{RateLimitDecision, RateLimitError, RateLimitScope, RateLimiter};
pub use repositories::{
    ConversationRepository, FinishedTurn, NewTurn, StartedTurn, UserRepository,
};
pub use stream_buffer::{BufferedEvent, EventStream, StreamBuffer, StreamBufferError};
