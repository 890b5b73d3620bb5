//! Integration tests: the lexicon against the reference implementation, and the LLM and
//! Google strategies over HTTP against a fake upstream.

mod cumulative;
mod google;
mod llm_methods;
mod support;
mod vader_reference;
