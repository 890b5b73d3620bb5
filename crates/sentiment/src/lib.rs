#![doc = include_str!("../README.md")]

mod config;
pub mod cumulative;
mod error;
mod google;
pub mod lexicon;
mod llm;
mod method;
mod service;
mod spend;
pub mod structured;

pub use config::SentimentConfig;
pub use error::StrategyError;
pub use llm::LlmTarget;
pub use method::{SentimentMethod, UnknownMethod};
pub use service::SentimentService;
pub use spend::{Spend, Spent};
pub use structured::StructuredSentiment;
