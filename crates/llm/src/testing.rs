//! Test support (feature `testing`): a fake provider upstream on a real loopback socket,
//! speaking HTTP/1.1 by hand so faults can be injected exactly: an error status with headers,
//! an SSE body chunk by chunk with delays, a connection dropped mid-body, a hang. Each request
//! takes the next scripted reply (the last one repeats) and is recorded. Helpers build the
//! OpenAI chat-completions and Gemini `alt=sse` payloads, so tests speak the real formats.
#![expect(
    clippy::unwrap_used,
    reason = "test support: a broken fixture should fail loudly"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the upstream answers to one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response with a JSON (or any) body.
    Body {
        /// The HTTP status.
        status: u16,
        /// Extra headers, e.g. `retry-after`.
        headers: Vec<(&'static str, String)>,
        /// The body.
        body: String,
    },
    /// A 200 event stream: each event's data after its delay; `drop_after` closes the
    /// connection abruptly after that many events (no terminating chunk).
    Sse {
        /// Each event's delay and `data:` payload.
        events: Vec<(Duration, String)>,
        /// Close the connection abruptly before this event.
        drop_after: Option<usize>,
    },
    /// Accept the request and never answer.
    Hang,
    /// Stream back, in the OpenAI format, `You said: ` and the content of the request's last
    /// user message: a reply that shows which question the model was asked.
    EchoOpenAi,
}

impl Reply {
    /// A complete response with `status` and `body`.
    pub fn status(status: u16, body: &str) -> Self {
        Self::Body {
            status,
            headers: vec![],
            body: body.to_owned(),
        }
    }

    /// An event stream of these payloads, without delays.
    pub fn sse(events: &[&str]) -> Self {
        Self::Sse {
            events: events
                .iter()
                .map(|e| (Duration::ZERO, (*e).to_owned()))
                .collect(),
            drop_after: None,
        }
    }
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request line and headers.
    pub head: String,
    /// The body.
    pub body: String,
}

/// The running fake upstream.
pub struct Upstream {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// Requests answered so far.
    pub served: Arc<std::sync::atomic::AtomicUsize>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl Upstream {
    /// Listens on a free loopback port and answers with `script`, in order; the last reply
    /// repeats.
    pub async fn start(script: Vec<Reply>) -> Self {
        Self::serve(script, false).await
    }

    /// Like [`Upstream::start`], but the script repeats from the start when it runs out,
    /// e.g. to inject a failure into every third request of a load test.
    pub async fn start_cycling(script: Vec<Reply>) -> Self {
        Self::serve(script, true).await
    }

    async fn serve(script: Vec<Reply>, cycle: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&recorded);
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&served);
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let index = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let reply = if cycle {
                    script.get(index % script.len().max(1))
                } else {
                    script.get(index).or(script.last())
                };
                let reply = reply.cloned().unwrap();
                let log = Arc::clone(&log);
                tokio::spawn(async move { serve(socket, reply, log).await });
            }
        });
        Self {
            base_url,
            served,
            recorded,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// A registry whose one provider, `openai`, is the OpenAI-compatible adapter pointed at
    /// this upstream (default model `gpt-4.1-mini`), without retries or circuit breaker.
    pub fn openai_registry(&self) -> crate::ProviderRegistry {
        let config = crate::providers::openai::OpenAiConfig {
            api_key: "sk-test".into(),
            base_url: format!("{}/v1", self.base_url),
            ..crate::providers::openai::OpenAiConfig::default()
        };
        let adapter =
            crate::providers::openai::OpenAiProvider::new(config, Duration::from_secs(2)).unwrap();
        let mut registry = crate::ProviderRegistry::empty("openai", "gpt-4.1-mini");
        registry.insert(Arc::new(adapter));
        registry
    }
}

/// A one-message request to `model`: the user says `text`.
pub fn user_request(model: &str, text: &str) -> crate::ChatRequest {
    crate::ChatRequest::new(
        model,
        vec![crate::ChatMessage::new(crate::ChatRole::User, text)],
    )
}

/// An OpenAI chat-completions chunk carrying `content` (and `finish_reason` if given).
pub fn openai_delta(content: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    let content = serde_json::to_string(content).unwrap_or_default();
    format!(
        r#"{{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"content":{content}}},"finish_reason":{finish}}}]}}"#
    )
}

/// A whole OpenAI reply streamed as one chunk per piece, then `[DONE]`.
pub fn openai_stream(pieces: &[&str]) -> Reply {
    let mut events: Vec<String> = pieces.iter().map(|p| openai_delta(p, None)).collect();
    events.push(openai_delta("", Some("stop")));
    events.push("[DONE]".to_owned());
    Reply::Sse {
        events: events.into_iter().map(|e| (Duration::ZERO, e)).collect(),
        drop_after: None,
    }
}

/// The [`Reply::EchoOpenAi`] answer to an OpenAI chat request `body`.
fn echo(body: &str) -> Reply {
    let request: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let asked = request["messages"]
        .as_array()
        .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    openai_stream(&["You said: ", &asked])
}

/// A Gemini `alt=sse` chunk with these `parts` (JSON array items) and an optional finish reason.
pub fn gemini_chunk(parts: &str, finish: Option<&str>) -> String {
    let finish = finish
        .map(|f| format!(r#","finishReason":"{f}""#))
        .unwrap_or_default();
    format!(
        r#"{{"candidates":[{{"content":{{"parts":[{parts}],"role":"model"}}{finish}}}],"usageMetadata":{{"promptTokenCount":5,"candidatesTokenCount":3}}}}"#
    )
}

async fn serve(mut socket: TcpStream, reply: Reply, log: Arc<Mutex<Vec<Recorded>>>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let reply = match reply {
        Reply::EchoOpenAi => echo(&request.body),
        other => other,
    };
    log.lock().unwrap().push(request);
    match reply {
        Reply::Body {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Status\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("connection: close\r\n\r\n");
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(body.as_bytes()).await;
        }
        Reply::Sse { events, drop_after } => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for (index, (delay, data)) in events.into_iter().enumerate() {
                if drop_after == Some(index) {
                    return;
                }
                tokio::time::sleep(delay).await;
                let frame = format!("data: {data}\n\n");
                let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                if socket.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
            }
            if drop_after.is_none() {
                let _ = socket.write_all(b"0\r\n\r\n").await;
            }
        }
        // Hangs for good (`EchoOpenAi` was answered above).
        Reply::Hang | Reply::EchoOpenAi => tokio::time::sleep(Duration::from_secs(3600)).await,
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Recorded> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(position) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break position + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..]).into_owned();
    Some(Recorded { head, body })
}
