//! A minimal Server-Sent-Events decoder for provider responses: lines split on LF, CRLF or
//! CR (also across network chunks), `data:` lines joined, comments ignored, and every line
//! and event bounded by [`SseLimits`], so an upstream that never ends a line (or an event)
//! is refused instead of growing a buffer until the process runs out of memory.
//!
//! Why not `eventsource-stream` (already in the tree, through async-openai): it has no size
//! bound either (a wrapper would have to find line ends anyway), and it re-copies its buffer
//! after every line it parses, where this decoder handles each byte once (`cargo bench -p
//! lia-llm`: 0.5-0.6 us per streamed chunk).

use futures::{Stream, StreamExt};

use crate::error::LlmError;

/// One decoded event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, empty when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// The largest line and event a decoder accepts. Provider chunks are a few KiB; the
/// defaults leave room for large tool or grounding payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseLimits {
    /// Bytes in one line, without its line break.
    pub max_line_bytes: usize,
    /// Bytes of `data` in one event, its lines joined.
    pub max_event_bytes: usize,
}

impl Default for SseLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_event_bytes: 4 << 20,
        }
    }
}

/// Incremental decoder: feed bytes, get whole events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    event: SseEvent,
    has_data: bool,
    last_was_cr: bool,
    limits: SseLimits,
}

impl SseDecoder {
    /// A decoder bounded by `limits`.
    #[must_use]
    pub fn new(limits: SseLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Decodes `bytes`, returning the events they complete.
    ///
    /// # Errors
    /// [`LlmError::Protocol`] when a line or an event outgrows the limits; the stream is not
    /// worth reading further then.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, LlmError> {
        let mut events = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' if self.last_was_cr => {}
                b'\n' | b'\r' => {
                    if let Some(event) = self.end_line()? {
                        events.push(event);
                    }
                }
                _ if self.line.len() >= self.limits.max_line_bytes => {
                    return Err(too_large("line", self.limits.max_line_bytes));
                }
                _ => self.line.push(byte),
            }
            self.last_was_cr = byte == b'\r';
        }
        Ok(events)
    }

    /// Processes the buffered line; a blank line dispatches the event.
    fn end_line(&mut self) -> Result<Option<SseEvent>, LlmError> {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.is_empty() {
            if !self.has_data {
                self.event = SseEvent::default();
                return Ok(None);
            }
            self.has_data = false;
            return Ok(Some(std::mem::take(&mut self.event)));
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                let joined = self.event.data.len() + usize::from(self.has_data) + value.len();
                if joined > self.limits.max_event_bytes {
                    return Err(too_large("event", self.limits.max_event_bytes));
                }
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event.event = value.to_owned(),
            _ => {}
        }
        Ok(None)
    }

    /// The event left when the body ends without a final blank line.
    ///
    /// # Errors
    /// [`LlmError::Protocol`] when that last line outgrows the event limit.
    pub fn finish(&mut self) -> Result<Option<SseEvent>, LlmError> {
        if !self.line.is_empty()
            && let Some(event) = self.end_line()?
        {
            return Ok(Some(event));
        }
        Ok(self.has_data.then(|| {
            self.has_data = false;
            std::mem::take(&mut self.event)
        }))
    }
}

fn too_large(what: &str, limit: usize) -> LlmError {
    LlmError::Protocol(format!(
        "the provider sent an event-stream {what} over {limit} bytes"
    ))
}

/// The events of an HTTP body stream; a transport error mid-body becomes
/// [`LlmError::Unavailable`] (a dropped connection).
pub fn events<S, B, E>(body: S) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + Send,
    E: std::fmt::Display + Send,
{
    let state = (
        Box::pin(body),
        SseDecoder::default(),
        std::collections::VecDeque::new(),
        false,
    );
    futures::stream::unfold(
        state,
        |(mut body, mut decoder, mut queue, mut ended)| async move {
            loop {
                if let Some(event) = queue.pop_front() {
                    return Some((Ok(event), (body, decoder, queue, ended)));
                }
                if ended {
                    return None;
                }
                let decoded = match body.next().await {
                    Some(Ok(bytes)) => decoder.push(bytes.as_ref()),
                    Some(Err(error)) => {
                        ended = true;
                        let error =
                            LlmError::Unavailable(format!("connection lost mid-stream: {error}"));
                        return Some((Err(error), (body, decoder, queue, ended)));
                    }
                    None => {
                        ended = true;
                        decoder.finish().map(|last| last.into_iter().collect())
                    }
                };
                match decoded {
                    Ok(events) => queue.extend(events),
                    Err(error) => {
                        ended = true;
                        return Some((Err(error), (body, decoder, queue, ended)));
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let mut decoder = SseDecoder::default();
        let mut events = decoder.push(b"data: {\"a\":").unwrap();
        events.extend(
            decoder
                .push(b"1}\r\n\r\n: keep-alive\n\nevent: x\ndata: one\ndata: two\r")
                .unwrap(),
        );
        events.extend(decoder.push(b"\rdata: [DONE]\n\n").unwrap());
        assert_eq!(
            events,
            [
                SseEvent {
                    event: String::new(),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: "x".into(),
                    data: "one\ntwo".into()
                },
                SseEvent {
                    event: String::new(),
                    data: "[DONE]".into()
                },
            ]
        );
    }

    #[test]
    fn a_final_event_without_blank_line_is_kept() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.push(b"data: last").unwrap().is_empty());
        assert_eq!(
            decoder.finish().unwrap(),
            Some(SseEvent {
                event: String::new(),
                data: "last".into()
            })
        );
    }

    #[test]
    fn a_line_that_never_ends_is_refused_at_the_limit_not_buffered() {
        let limits = SseLimits {
            max_line_bytes: 16,
            max_event_bytes: 64,
        };
        let mut decoder = SseDecoder::new(limits);
        // Exactly at the limit is a line like any other.
        let events = decoder.push(b"data: 0123456789\n\n").unwrap();
        assert_eq!(events[0].data, "0123456789");
        assert!(decoder.push(b"data: 0123456789").is_ok());
        let refused = decoder.push(b"a");
        assert!(matches!(refused, Err(LlmError::Protocol(_))), "{refused:?}");
    }

    #[test]
    fn an_event_of_many_short_lines_is_refused_at_the_event_limit() {
        let limits = SseLimits {
            max_line_bytes: 16,
            max_event_bytes: 20,
        };
        let mut decoder = SseDecoder::new(limits);
        // Two lines joined: 9 + 1 + 9 = 19 bytes, within the limit.
        let events = decoder
            .push(b"data: 123456789\ndata: 123456789\n\n")
            .unwrap();
        assert_eq!(events[0].data.len(), 19);
        let refused = decoder.push(b"data: 123456789\ndata: 123456789\ndata: 1\n");
        assert!(matches!(refused, Err(LlmError::Protocol(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn an_oversized_stream_ends_with_one_protocol_error() {
        let body = futures::stream::iter([
            Ok::<_, std::convert::Infallible>(b"data: ok\n\n".to_vec()),
            Ok(vec![b'x'; (1 << 20) + 1]),
            Ok(b"data: never read\n\n".to_vec()),
        ]);
        let outcomes: Vec<_> = events(body).collect().await;
        assert_eq!(outcomes.len(), 2, "{outcomes:?}");
        assert_eq!(outcomes[0].as_ref().unwrap().data, "ok");
        assert!(matches!(outcomes[1], Err(LlmError::Protocol(_))));
    }
}
