//! Structured mode: the model answers with one JSON object,
//! `{"response": "...", "sentiment_score": -1..1, "sentiment_label": "...", "sentiment_emotion": "..."}`.
//! [`ResponseExtractor`] pulls the text of `response` out of the growing document as it
//! streams, undoing JSON escapes even when one is split across chunks, and parses the
//! sentiment fields at the end. It is a pure state machine: any input, in any chunking, is
//! handled without panicking.

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::error::LlmError;
use crate::types::{ChatStream, StreamEvent};

/// The JSON key whose string value is streamed.
const RESPONSE_KEY: &str = "response";

/// The sentiment fields of a structured reply, as the model gave them (the score clamped to
/// [-1, 1]; a missing or unreadable score is `None`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StructuredSentiment {
    /// `sentiment_score`.
    pub score: Option<f64>,
    /// `sentiment_label`, verbatim.
    pub label: Option<String>,
    /// `sentiment_emotion`, verbatim.
    pub emotion: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Outside any string we care about.
    #[default]
    Scanning,
    /// Reading an object key at depth 1.
    InKey,
    /// After a key, waiting for `:`.
    AfterKey,
    /// After `:`, waiting for the value.
    BeforeValue,
    /// Inside the `response` string: decode and emit.
    InResponse,
    /// Inside any other string: skip.
    InOtherString,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Escape {
    #[default]
    None,
    /// After a backslash.
    Backslash,
    /// After `\u`, with the hex digits read so far.
    Unicode(String),
    /// A high surrogate waiting for `\uXXXX` with its low half; `stage` counts `\`, `u`, digits.
    LowSurrogate {
        high: u32,
        digits: String,
        stage: u8,
    },
}

/// Incrementally extracts the `response` string of a structured reply.
#[derive(Debug, Clone, Default)]
pub struct ResponseExtractor {
    state: State,
    escape: Escape,
    depth: u32,
    expecting_key: bool,
    key: String,
    skip_next: bool,
    found_response: bool,
    raw: String,
}

impl ResponseExtractor {
    /// A fresh extractor.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of the reply; returns the newly decoded `response` text.
    pub fn push(&mut self, chunk: &str) -> String {
        self.raw.push_str(chunk);
        let mut out = String::new();
        for c in chunk.chars() {
            self.step(c, &mut out);
        }
        out
    }

    /// Whether the `response` field has been seen.
    #[must_use]
    pub fn found_response(&self) -> bool {
        self.found_response
    }

    /// Ends the reply: the sentiment fields, and the text to show if no `response` string was
    /// streamed (the model ignored the format: then the whole reply, minus code fences).
    #[must_use]
    pub fn finish(self) -> (StructuredSentiment, Option<String>) {
        let document = parse_document(&self.raw);
        let sentiment = document.as_ref().map(sentiment_fields).unwrap_or_default();
        let fallback = if self.found_response {
            None
        } else {
            let text = match &document {
                Some(serde_json::Value::Object(fields)) => {
                    fields.get(RESPONSE_KEY).map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                }
                _ => Some(strip_code_fences(&self.raw).trim().to_owned()),
            };
            text.filter(|t| !t.is_empty())
        };
        (sentiment, fallback)
    }

    fn step(&mut self, c: char, out: &mut String) {
        match self.state {
            State::Scanning => self.scan(c),
            State::InKey => {
                if self.skip_next {
                    self.skip_next = false;
                    self.key.push(c);
                } else if c == '\\' {
                    self.skip_next = true;
                } else if c == '"' {
                    self.state = State::AfterKey;
                    self.expecting_key = false;
                } else if self.key.len() < 64 {
                    self.key.push(c);
                }
            }
            State::AfterKey => match c {
                ':' => self.state = State::BeforeValue,
                c if c.is_whitespace() => {}
                other => {
                    self.state = State::Scanning;
                    self.scan(other);
                }
            },
            State::BeforeValue => match c {
                c if c.is_whitespace() => {}
                '"' if self.key == RESPONSE_KEY && !self.found_response => {
                    self.found_response = true;
                    self.state = State::InResponse;
                }
                '"' => self.state = State::InOtherString,
                other => {
                    self.state = State::Scanning;
                    self.scan(other);
                }
            },
            State::InOtherString => {
                if self.skip_next {
                    self.skip_next = false;
                } else if c == '\\' {
                    self.skip_next = true;
                } else if c == '"' {
                    self.state = State::Scanning;
                }
            }
            State::InResponse => self.decode(c, out),
        }
    }

    fn scan(&mut self, c: char) {
        match c {
            '{' | '[' => {
                self.depth = self.depth.saturating_add(1);
                self.expecting_key = self.depth == 1 && c == '{';
            }
            '}' | ']' => self.depth = self.depth.saturating_sub(1),
            ',' if self.depth == 1 => self.expecting_key = true,
            '"' if self.depth == 1 && self.expecting_key => {
                self.key.clear();
                self.state = State::InKey;
            }
            '"' => self.state = State::InOtherString,
            _ => {}
        }
    }

    fn decode(&mut self, c: char, out: &mut String) {
        match std::mem::take(&mut self.escape) {
            Escape::None => match c {
                '\\' => self.escape = Escape::Backslash,
                '"' => self.state = State::Scanning,
                other => out.push(other),
            },
            Escape::Backslash => match c {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => self.escape = Escape::Unicode(String::new()),
                other => out.push(other),
            },
            Escape::Unicode(mut digits) => {
                if !c.is_ascii_hexdigit() {
                    out.push(char::REPLACEMENT_CHARACTER);
                    return self.decode(c, out);
                }
                digits.push(c);
                if digits.len() < 4 {
                    self.escape = Escape::Unicode(digits);
                    return;
                }
                let code = u32::from_str_radix(&digits, 16).unwrap_or(0xFFFD);
                if (0xD800..0xDC00).contains(&code) {
                    self.escape = Escape::LowSurrogate {
                        high: code,
                        digits: String::new(),
                        stage: 0,
                    };
                } else {
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
            Escape::LowSurrogate {
                high,
                mut digits,
                stage,
            } => {
                let expected_prefix = match stage {
                    0 => Some('\\'),
                    1 => Some('u'),
                    _ => None,
                };
                match expected_prefix {
                    Some(expected) if c == expected => {
                        self.escape = Escape::LowSurrogate {
                            high,
                            digits,
                            stage: stage + 1,
                        };
                    }
                    None if c.is_ascii_hexdigit() => {
                        digits.push(c);
                        if digits.len() < 4 {
                            self.escape = Escape::LowSurrogate {
                                high,
                                digits,
                                stage,
                            };
                            return;
                        }
                        let low = u32::from_str_radix(&digits, 16).unwrap_or(0);
                        if (0xDC00..0xE000).contains(&low) {
                            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        } else {
                            out.push(char::REPLACEMENT_CHARACTER);
                            out.push(char::from_u32(low).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                    }
                    _ => {
                        // A lone high surrogate: replace it, then handle what followed.
                        out.push(char::REPLACEMENT_CHARACTER);
                        if stage == 1 {
                            self.escape = Escape::Backslash;
                        }
                        self.decode(c, out);
                    }
                }
            }
        }
    }
}

/// Removes a Markdown code fence (```json ... ```) around a reply.
#[must_use]
pub fn strip_code_fences(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let rest = rest.split_once('\n').map_or("", |(_, body)| body);
    rest.trim_end().strip_suffix("```").unwrap_or(rest).trim()
}

/// The first JSON object in `text`, tolerating code fences and text around it.
#[must_use]
pub fn parse_document(text: &str) -> Option<serde_json::Value> {
    let body = strip_code_fences(text);
    if let Ok(value) = serde_json::from_str(body) {
        return Some(value);
    }
    let start = body.find('{')?;
    let end = body.rfind('}')?;
    body.get(start..=end)
        .and_then(|object| serde_json::from_str(object).ok())
}

fn sentiment_fields(document: &serde_json::Value) -> StructuredSentiment {
    let text = |key: &str| {
        document
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let score = document.get("sentiment_score").and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    StructuredSentiment {
        score: score.filter(|s| s.is_finite()).map(|s| s.clamp(-1.0, 1.0)),
        label: text("sentiment_label"),
        emotion: text("sentiment_emotion"),
    }
}

/// Turns a provider stream of raw JSON text into the `response` text as [`StreamEvent::Text`]
/// events, thoughts dropped, followed by one [`StreamEvent::Sentiment`] before the end.
pub fn extract(inner: ChatStream) -> ChatStream {
    let state = (
        inner,
        Some(ResponseExtractor::new()),
        std::collections::VecDeque::new(),
    );
    Box::pin(futures::stream::unfold(
        state,
        |(mut inner, mut extractor, mut queue)| async move {
            loop {
                if let Some(item) = queue.pop_front() {
                    return Some((item, (inner, extractor, queue)));
                }
                let current = extractor.as_mut()?;
                match inner.next().await {
                    Some(Ok(StreamEvent::Text(chunk))) => {
                        let text = current.push(&chunk);
                        if !text.is_empty() {
                            queue.push_back(Ok(StreamEvent::Text(text)));
                        }
                    }
                    Some(Ok(StreamEvent::Thought(_))) => {}
                    Some(Ok(other)) => queue.push_back(Ok(other)),
                    Some(Err(error)) => {
                        extractor = None;
                        queue.push_back(Err::<StreamEvent, LlmError>(error));
                    }
                    None => {
                        let (sentiment, fallback) = extractor.take()?.finish();
                        if let Some(text) = fallback {
                            queue.push_back(Ok(StreamEvent::Text(text)));
                        }
                        queue.push_back(Ok(StreamEvent::Sentiment(sentiment)));
                    }
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests;
