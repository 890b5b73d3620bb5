//! Provider adapters: one folder or file per provider, each turning the neutral request into
//! the vendor's wire format and the vendor's stream back into [`crate::StreamEvent`]s.

pub mod gemini;
pub mod http;
pub mod openai;
