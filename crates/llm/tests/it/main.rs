//! Integration tests of the adapters over real HTTP against a fake upstream in this process,
//! and of the retry policy with tokio's paused clock.

mod gemini;
mod openai;
mod retries;
mod scripted;
