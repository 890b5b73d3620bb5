//! A lean HTTP/1.1 client for the chat-turn and read scenarios: one keep-alive connection per
//! simulated client, the request bytes built once, the chunked event stream scanned for the
//! first `chunk` and the final `done` without building strings, a read's body skipped by its
//! length. On a two-core machine the
//! load generator shares the CPU with the server; a general-purpose client spends more per
//! turn than the server does, and would measure itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::load::Outcome;

/// What a request's response is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A chunked event stream, done at `event: done`.
    Turn,
    /// A JSON body of known length.
    Read,
}

/// One request per token, ready to send.
pub(crate) struct Requests {
    address: SocketAddr,
    requests: Vec<Vec<u8>>,
    kind: Kind,
}

impl Requests {
    /// `GET path`, once per token.
    pub(crate) fn get(base_url: &str, tokens: &[String], path: &str) -> Result<Self> {
        let authority = base_url
            .strip_prefix("http://")
            .context("the benchmark server speaks plain HTTP")?;
        let address: SocketAddr = authority.parse()?;
        let requests = tokens
            .iter()
            .map(|token| {
                format!(
                    "GET {path} HTTP/1.1\r\nHost: {authority}\r\nCookie: access_token={token}\r\nAccept: application/json\r\n\r\n"
                )
                .into_bytes()
            })
            .collect();
        Ok(Self {
            address,
            requests,
            kind: Kind::Read,
        })
    }

    /// `POST /api/v1/chat/stream` with `body`, once per token.
    pub(crate) fn new(base_url: &str, tokens: &[String], body: &serde_json::Value) -> Result<Self> {
        let authority = base_url
            .strip_prefix("http://")
            .context("the benchmark server speaks plain HTTP")?;
        let address: SocketAddr = authority.parse()?;
        let body = serde_json::to_vec(body)?;
        let requests = tokens
            .iter()
            .map(|token| {
                let mut request = format!(
                    "POST /api/v1/chat/stream HTTP/1.1\r\nHost: {authority}\r\nCookie: access_token={token}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                request.extend_from_slice(&body);
                request
            })
            .collect();
        Ok(Self {
            address,
            requests,
            kind: Kind::Turn,
        })
    }
}

/// What one response showed.
struct Turn {
    first_chunk: Option<Duration>,
    done: bool,
    keep_alive: bool,
}

/// A client's connection and its read buffer.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
    start: usize,
}

impl Connection {
    async fn open(address: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
            start: 0,
        })
    }

    /// Reads more bytes into the buffer; false at end of stream.
    async fn fill(&mut self) -> Result<bool> {
        if self.start > 0 && self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        let mut chunk = [0_u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next line (without CRLF), reading as needed.
    async fn line(&mut self) -> Result<Vec<u8>> {
        loop {
            if let Some(position) = find(&self.buffer[self.start..], b"\r\n") {
                let line = self.buffer[self.start..self.start + position].to_vec();
                self.start += position + 2;
                return Ok(line);
            }
            if !self.fill().await? {
                bail!("connection closed mid-response");
            }
        }
    }

    /// Exactly `n` bytes, reading as needed.
    async fn take(&mut self, n: usize) -> Result<&[u8]> {
        while self.buffer.len() - self.start < n {
            if !self.fill().await? {
                bail!("connection closed mid-chunk");
            }
        }
        let range = self.start..self.start + n;
        self.start += n;
        Ok(&self.buffer[range])
    }

    /// Sends `request` and reads the whole response.
    async fn exchange(&mut self, kind: Kind, request: &[u8], sent: Instant) -> Result<Turn> {
        self.stream.write_all(request).await?;
        let status = self.line().await?;
        if !status.starts_with(b"HTTP/1.1 200") {
            bail!("status {}", String::from_utf8_lossy(&status));
        }
        let mut chunked = false;
        let mut keep_alive = true;
        let mut length = None;
        loop {
            let header = self.line().await?.to_ascii_lowercase();
            if header.is_empty() {
                break;
            }
            chunked |=
                header.starts_with(b"transfer-encoding:") && find(&header, b"chunked").is_some();
            keep_alive &=
                !(header.starts_with(b"connection:") && find(&header, b"close").is_some());
            if let Some(value) = header.strip_prefix(b"content-length:") {
                length = String::from_utf8_lossy(value).trim().parse::<usize>().ok();
            }
        }
        if kind == Kind::Read {
            let length = length.context("a read without Content-Length")?;
            self.take(length).await?;
            return Ok(Turn {
                first_chunk: None,
                done: true,
                keep_alive,
            });
        }
        if !chunked {
            bail!("expected a chunked event stream");
        }
        let mut turn = Turn {
            first_chunk: None,
            done: false,
            keep_alive,
        };
        loop {
            let size_line = self.line().await?;
            let size_text = String::from_utf8_lossy(&size_line);
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
            if size == 0 {
                self.line().await?;
                return Ok(turn);
            }
            let data = self.take(size).await?;
            if turn.first_chunk.is_none() && find(data, b"event: chunk").is_some() {
                turn.first_chunk = Some(sent.elapsed());
            }
            turn.done |= find(data, b"event: done").is_some();
            self.line().await?;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Runs turns with `concurrency` clients until `max_turns` or `deadline`.
pub(crate) async fn run(
    requests: &Arc<Requests>,
    concurrency: usize,
    max_turns: usize,
    deadline: Duration,
) -> Outcome {
    let started = Instant::now();
    let issued = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let requests = Arc::clone(requests);
            let issued = Arc::clone(&issued);
            tokio::spawn(async move {
                let request = &requests.requests[worker % requests.requests.len().max(1)];
                let mut results = Vec::new();
                let mut connection = None;
                while started.elapsed() < deadline
                    && issued.fetch_add(1, Ordering::SeqCst) < max_turns
                {
                    let sent = Instant::now();
                    if connection.is_none() {
                        connection = Connection::open(requests.address).await.ok();
                    }
                    let outcome = match connection.as_mut() {
                        Some(open) => open.exchange(requests.kind, request, sent).await,
                        None => Err(anyhow::anyhow!("cannot connect")),
                    };
                    match outcome {
                        Ok(turn) => {
                            results.push((turn.done, sent.elapsed(), turn.first_chunk));
                            if !turn.keep_alive {
                                connection = None;
                            }
                        }
                        Err(_) => {
                            results.push((false, sent.elapsed(), None));
                            connection = None;
                        }
                    }
                }
                results
            })
        })
        .collect();
    let mut results = Vec::new();
    for worker in workers {
        results.extend(worker.await.unwrap_or_default());
    }
    Outcome::from_results(started.elapsed(), results)
}
