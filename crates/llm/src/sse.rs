//! A minimal Server-Sent-Events decoder for provider responses: lines split on LF, CRLF or
//! CR (also across network chunks), `data:` lines joined, comments ignored.

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

/// Incremental decoder: feed bytes, get whole events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    event: SseEvent,
    has_data: bool,
    last_was_cr: bool,
}

impl SseDecoder {
    /// Decodes `bytes`, returning the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for &byte in bytes {
            match byte {
                b'\n' if self.last_was_cr => {}
                b'\n' | b'\r' => {
                    if let Some(event) = self.end_line() {
                        events.push(event);
                    }
                }
                _ => self.line.push(byte),
            }
            self.last_was_cr = byte == b'\r';
        }
        events
    }

    /// Processes the buffered line; a blank line dispatches the event.
    fn end_line(&mut self) -> Option<SseEvent> {
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.is_empty() {
            if !self.has_data {
                self.event = SseEvent::default();
                return None;
            }
            self.has_data = false;
            return Some(std::mem::take(&mut self.event));
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => {
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event.event = value.to_owned(),
            _ => {}
        }
        None
    }

    /// The event left when the body ends without a final blank line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.line.is_empty()
            && let Some(event) = self.end_line()
        {
            return Some(event);
        }
        self.has_data.then(|| {
            self.has_data = false;
            std::mem::take(&mut self.event)
        })
    }
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
                match body.next().await {
                    Some(Ok(bytes)) => queue.extend(decoder.push(bytes.as_ref())),
                    Some(Err(error)) => {
                        ended = true;
                        let error =
                            LlmError::Unavailable(format!("connection lost mid-stream: {error}"));
                        return Some((Err(error), (body, decoder, queue, ended)));
                    }
                    None => {
                        ended = true;
                        queue.extend(decoder.finish());
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
        let mut events = decoder.push(b"data: {\"a\":");
        events.extend(decoder.push(b"1}\r\n\r\n: keep-alive\n\nevent: x\ndata: one\ndata: two\r"));
        events.extend(decoder.push(b"\rdata: [DONE]\n\n"));
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
        assert!(decoder.push(b"data: last").is_empty());
        assert_eq!(
            decoder.finish(),
            Some(SseEvent {
                event: String::new(),
                data: "last".into()
            })
        );
    }
}
