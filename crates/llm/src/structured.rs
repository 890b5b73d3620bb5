//! Structured output: the model answers with one JSON object shaped by a caller's JSON schema
//! ([`StructuredOutput`]), and one top-level string field of it may be streamed as text while
//! the rest of the object is still arriving.
//!
//! [`FieldExtractor`] pulls that field's text out of the growing document as it streams,
//! undoing JSON escapes even when one is split across chunks, and parses the whole document at
//! the end. It is a pure state machine: any input, in any chunking, is handled without
//! panicking. [`extract`] applies it to a provider stream: text events carry only the field's
//! text, and one [`StreamEvent::Document`] with the parsed object comes before the end.

use std::sync::Arc;

use futures::StreamExt;

use crate::error::LlmError;
use crate::types::{ChatStream, StreamEvent};

/// Longest key the extractor remembers: longer keys are never the streamed field.
const MAX_KEY_CHARS: usize = 64;

/// A request for a JSON reply that follows `schema`.
///
/// Each adapter passes the schema in its provider's own form (Gemini's `responseSchema`,
/// whose property order is `required` first, then the rest); OpenAI-compatible servers get
/// JSON mode (`json_object`), which every such server accepts, so there the prompt must
/// describe the shape too.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredOutput {
    /// A JSON Schema of the reply: `type`, `properties`, `required`, `enum`, `items`.
    pub schema: Arc<serde_json::Value>,
    /// A top-level string property streamed as [`StreamEvent::Text`] while the rest arrives;
    /// `None` streams no text, and the reply is only the final document.
    pub streamed_field: Option<String>,
}

impl StructuredOutput {
    /// A reply shaped by `schema`, streaming the top-level string property `field`.
    #[must_use]
    pub fn streaming(schema: Arc<serde_json::Value>, field: impl Into<String>) -> Self {
        Self {
            schema,
            streamed_field: Some(field.into()),
        }
    }

    /// The properties of the schema's top-level object in reply order: those named in
    /// `required` first, in that order, then the others.
    #[must_use]
    pub fn property_order(&self) -> Vec<String> {
        property_order(&self.schema)
    }
}

/// The property names of the object schema `schema`: `required` ones first, in order.
pub(crate) fn property_order(schema: &serde_json::Value) -> Vec<String> {
    let mut order: Vec<String> = schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    if let Some(properties) = schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
    {
        for name in properties.keys() {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
    }
    order
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
    /// Inside the streamed field's string: decode and emit.
    InField,
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

/// Incrementally extracts one top-level string field of a JSON reply.
#[derive(Debug, Clone)]
pub struct FieldExtractor {
    field: String,
    state: State,
    escape: Escape,
    depth: u32,
    expecting_key: bool,
    key: String,
    skip_next: bool,
    found_field: bool,
    raw: String,
}

/// The end of a structured reply.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Finished {
    /// The reply parsed as JSON (code fences and text around the object tolerated), if it was.
    pub document: Option<serde_json::Value>,
    /// The text to show when the field was not streamed (the model ignored the format): the
    /// field's value if the document has it in another form, else the whole reply without
    /// code fences; `None` when the field was streamed or there is nothing to show.
    pub fallback_text: Option<String>,
}

impl FieldExtractor {
    /// An extractor streaming the top-level string property `field`.
    #[must_use]
    pub fn new(field: &str) -> Self {
        Self {
            field: field.to_owned(),
            state: State::default(),
            escape: Escape::default(),
            depth: 0,
            expecting_key: false,
            key: String::new(),
            skip_next: false,
            found_field: false,
            raw: String::new(),
        }
    }

    /// Feeds the next chunk of the reply; returns the newly decoded text of the field.
    pub fn push(&mut self, chunk: &str) -> String {
        self.raw.push_str(chunk);
        let mut out = String::new();
        for c in chunk.chars() {
            self.step(c, &mut out);
        }
        out
    }

    /// Whether the field's string has been seen.
    #[must_use]
    pub fn found_field(&self) -> bool {
        self.found_field
    }

    /// Ends the reply: the parsed document, and the text to show if the field's string was
    /// not streamed.
    #[must_use]
    pub fn finish(self) -> Finished {
        let document = parse_document(&self.raw);
        let fallback_text = if self.found_field {
            None
        } else {
            let text = match &document {
                Some(serde_json::Value::Object(fields)) => {
                    fields.get(&self.field).map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                }
                _ => Some(strip_code_fences(&self.raw).trim().to_owned()),
            };
            text.filter(|t| !t.is_empty())
        };
        Finished {
            document,
            fallback_text,
        }
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
                } else if self.key.len() < MAX_KEY_CHARS {
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
                '"' if self.key == self.field && !self.found_field => {
                    self.found_field = true;
                    self.state = State::InField;
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
            State::InField => self.decode(c, out),
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

/// Turns a provider stream of raw JSON text into a structured stream: with a streamed field,
/// its text as [`StreamEvent::Text`] events; thoughts dropped; then one
/// [`StreamEvent::Document`] with the parsed reply before the end (none when the reply was not
/// JSON: then the whole reply comes as text, so the user still sees what the model said).
pub fn extract(inner: ChatStream, output: &StructuredOutput) -> ChatStream {
    let field = output.streamed_field.as_deref();
    let state = (
        inner,
        Some(Collecting::new(field)),
        std::collections::VecDeque::new(),
    );
    Box::pin(futures::stream::unfold(
        state,
        |(mut inner, mut collecting, mut queue)| async move {
            loop {
                if let Some(item) = queue.pop_front() {
                    return Some((item, (inner, collecting, queue)));
                }
                let current = collecting.as_mut()?;
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
                        collecting = None;
                        queue.push_back(Err::<StreamEvent, LlmError>(error));
                    }
                    None => {
                        let finished = collecting.take()?.finish();
                        if let Some(text) = finished.fallback_text {
                            queue.push_back(Ok(StreamEvent::Text(text)));
                        }
                        if let Some(document) = finished.document {
                            queue.push_back(Ok(StreamEvent::Document(document)));
                        }
                    }
                }
            }
        },
    ))
}

/// What [`extract`] accumulates: the streamed field's extractor, or only the raw reply.
enum Collecting {
    Field(Box<FieldExtractor>),
    Whole(String),
}

impl Collecting {
    fn new(field: Option<&str>) -> Self {
        match field {
            Some(field) => Self::Field(Box::new(FieldExtractor::new(field))),
            None => Self::Whole(String::new()),
        }
    }

    fn push(&mut self, chunk: &str) -> String {
        match self {
            Self::Field(extractor) => extractor.push(chunk),
            Self::Whole(raw) => {
                raw.push_str(chunk);
                String::new()
            }
        }
    }

    fn finish(self) -> Finished {
        match self {
            Self::Field(extractor) => extractor.finish(),
            Self::Whole(raw) => match parse_document(&raw) {
                Some(document) => Finished {
                    document: Some(document),
                    fallback_text: None,
                },
                None => Finished {
                    document: None,
                    fallback_text: Some(strip_code_fences(&raw).trim().to_owned())
                        .filter(|t| !t.is_empty()),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests;
