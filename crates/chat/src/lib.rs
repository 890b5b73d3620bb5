#![doc = include_str!("../README.md")]

pub mod conversations;

pub use conversations::ConversationService;
