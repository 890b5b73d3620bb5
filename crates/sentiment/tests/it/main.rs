//! Integration tests: the lexicon against the reference implementation, and the LLM and
//! Google strategies over HTTP against a fake upstream.
//!
//! Modules are marked `cfg(test)` so clippy treats their helpers as test code.

#[cfg(test)]
mod cumulative;
#[cfg(test)]
mod google;
#[cfg(test)]
mod llm_methods;
#[cfg(test)]
mod support;
#[cfg(test)]
mod vader_reference;
